/**
 * Drops the HTTP/2 GOAWAY frames a client sends before the bytes reach the server's HTTP/2 session.
 *
 * Why: Deno 2.9's node:http2 aborts the whole process (nghttp2 assertion in
 * find_stream_on_goaway_func, denoland/deno#36788) when a client's GOAWAY and its end of stream
 * arrive together, which is what grpc-go does on Close: every `crictl` run is such a client.
 * A client's GOAWAY only names the last server-initiated stream it will accept; this server never
 * initiates streams, so the frame carries nothing the server needs, and the connection's end still
 * closes the session. Everything else passes through unchanged and uncopied.
 */

const PREFACE_LENGTH = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const FRAME_HEADER_LENGTH = 9;
const GOAWAY = 0x7;

export class ClientGoawayFilter {
  #prefaceLeft = PREFACE_LENGTH;
  /** Bytes of a partly received frame header (at most 9). */
  #header = new Uint8Array(FRAME_HEADER_LENGTH);
  #headerFill = 0;
  /** Payload bytes still to pass (or drop) for the current frame. */
  #payloadLeft = 0;
  #dropping = false;
  #dropped = 0;

  /** How many GOAWAY frames were dropped so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Feeds one chunk; returns the slices to forward, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    if (this.#prefaceLeft > 0) {
      const n = Math.min(this.#prefaceLeft, chunk.length);
      out.push(chunk.subarray(0, n));
      this.#prefaceLeft -= n;
      at = n;
    }
    while (at < chunk.length) {
      if (this.#payloadLeft > 0) {
        const n = Math.min(this.#payloadLeft, chunk.length - at);
        if (!this.#dropping) out.push(chunk.subarray(at, at + n));
        this.#payloadLeft -= n;
        at += n;
        continue;
      }
      const need = FRAME_HEADER_LENGTH - this.#headerFill;
      const avail = chunk.length - at;
      if (this.#headerFill === 0 && avail >= FRAME_HEADER_LENGTH) {
        // The common case: the whole header is in this chunk, so no copy is made.
        this.#startFrame(chunk.subarray(at, at + FRAME_HEADER_LENGTH), out);
        at += FRAME_HEADER_LENGTH;
        continue;
      }
      const n = Math.min(need, avail);
      this.#header.set(chunk.subarray(at, at + n), this.#headerFill);
      this.#headerFill += n;
      at += n;
      if (this.#headerFill === FRAME_HEADER_LENGTH) {
        this.#headerFill = 0;
        this.#startFrame(this.#header.slice(), out);
      }
    }
    return out;
  }

  #startFrame(header: Uint8Array, out: Uint8Array[]): void {
    this.#payloadLeft = (header[0] << 16) | (header[1] << 8) | header[2];
    this.#dropping = header[3] === GOAWAY;
    if (this.#dropping) this.#dropped++;
    else out.push(header);
  }
}
