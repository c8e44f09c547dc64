/**
 * Terminal sizes from a resize stream: a sequence of JSON objects {"Width":w,"Height":h} as Go's
 * json.Decoder reads them (field names case-insensitive, whitespace between objects). Each object
 * is bounded; a malformed or oversized one ends the resize stream, as the kubelet stops decoding.
 */
import type { TerminalSize } from "../oci/stream_io.ts";

const MAX_OBJECT = 1024;

export function resizeEvents(bytes: ReadableStream<Uint8Array>): ReadableStream<TerminalSize> {
  const reader = bytes.getReader();
  let buf = "";
  const decoder = new TextDecoder();
  return new ReadableStream<TerminalSize>({
    async pull(ctl) {
      for (;;) {
        const obj = takeObject(buf);
        if (obj === "bad") return end(ctl);
        if (obj) {
          buf = buf.slice(obj.end);
          const size = toSize(obj.text);
          if (!size) return end(ctl);
          ctl.enqueue(size);
          return;
        }
        if (buf.length > MAX_OBJECT) return end(ctl);
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done || !value) return end(ctl);
        buf += decoder.decode(value, { stream: true });
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  }, { highWaterMark: 0 });

  function end(ctl: ReadableStreamDefaultController<TerminalSize>) {
    ctl.close();
    void reader.cancel().catch(() => {});
  }
}

/** The first complete top-level object in buf, "bad" when buf cannot start one, else undefined. */
function takeObject(buf: string): { text: string; end: number } | "bad" | undefined {
  const start = buf.search(/\S/);
  if (start < 0) return undefined;
  if (buf[start] !== "{") return "bad";
  let depth = 0;
  let inString = false;
  for (let i = start; i < buf.length && i - start <= MAX_OBJECT; i++) {
    const c = buf[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return { text: buf.slice(start, i + 1), end: i + 1 };
  }
  return buf.length - start > MAX_OBJECT ? "bad" : undefined;
}

function toSize(text: string): TerminalSize | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out = { width: 0, height: 0 };
  for (const [k, n] of Object.entries(v)) {
    const key = k.toLowerCase();
    if (key !== "width" && key !== "height") continue;
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 65535) return undefined;
    out[key] = n as number;
  }
  return out;
}
