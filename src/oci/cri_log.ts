/**
 * The kubelet's CRI log format as conmon writes it: `<RFC3339Nano> <stdout|stderr> <P|F> <bytes>`
 * per line, P marking a partial line (no newline in the original output). Parsed as bytes, since
 * command output need not be text.
 */

export interface CriLogOutput {
  stdout: Uint8Array;
  stderr: Uint8Array;
}

const NL = 0x0a;
const SP = 0x20;

class Sink {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  constructor(readonly cap: number) {}
  push(b: Uint8Array) {
    const room = this.cap - this.size;
    if (room <= 0) return;
    const part = b.length > room ? b.subarray(0, room) : b;
    this.chunks.push(part);
    this.size += part.length;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** Rebuilds each stream from a log file's bytes, each capped at `cap` bytes. */
export function parseCriLog(log: Uint8Array, cap = Infinity): CriLogOutput {
  const sinks = { stdout: new Sink(cap), stderr: new Sink(cap) };
  const newline = new Uint8Array([NL]);
  let start = 0;
  while (start < log.length) {
    let end = log.indexOf(NL, start);
    if (end < 0) end = log.length; // a torn last line: keep what is there
    const line = log.subarray(start, end);
    start = end + 1;
    const s1 = line.indexOf(SP);
    const s2 = s1 < 0 ? -1 : line.indexOf(SP, s1 + 1);
    if (s2 < 0) continue;
    const stream = new TextDecoder().decode(line.subarray(s1 + 1, s2));
    const sink = stream === "stdout"
      ? sinks.stdout
      : stream === "stderr"
      ? sinks.stderr
      : undefined;
    if (!sink) continue;
    const tag = line[s2 + 1];
    // "F" and "P" are followed by a space; an empty full line has it too.
    const content = line.subarray(Math.min(line.length, s2 + 3));
    sink.push(content);
    if (tag !== 0x50 /* P */) sink.push(newline);
  }
  return { stdout: sinks.stdout.bytes(), stderr: sinks.stderr.bytes() };
}
