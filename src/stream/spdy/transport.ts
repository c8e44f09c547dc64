/**
 * Hands a connection to a SPDY session after the HTTP/1.1 upgrade: whoever parsed the request
 * holds a reader on the connection and may already have read SPDY bytes past the blank line.
 */
import type { SpdyTransport } from "./session.ts";

/**
 * A transport that yields `head` (bytes read past the upgrade request), then the rest of
 * `reader`; cancelling it cancels the reader, so closing the session still closes the connection.
 */
export function resumedTransport(options: {
  head: Uint8Array;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}): SpdyTransport {
  let head: Uint8Array | undefined = options.head.length > 0 ? options.head : undefined;
  const readable = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (head) {
        c.enqueue(head);
        head = undefined;
        return;
      }
      const { done, value } = await options.reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (reason) => options.reader.cancel(reason),
  }, { highWaterMark: 0 });
  return { readable, writable: options.writable };
}
