/**
 * A helper process's output, read into buffers sized by what it prints. Deno's own collection
 * (`child.output()`, `new Response(stream)`) reads each pipe in fresh 64 KiB chunks: two per spawn,
 * freed only at the next GC, and glibc served them from its heap. The daemon spawns CNI plugins,
 * conmon and runc all day, and that heap grew with them: 3,000 spawns took a process from 29 to
 * 128 MiB RSS with 64 KiB reads and to 65 MiB with these.
 */

/**
 * All of a stream: a byte stream (a child's pipe) is read with a BYOB reader into a buffer that
 * doubles from 4 KiB; any other stream chunk by chunk.
 */
export async function readAllBytes(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = stream.getReader({ mode: "byob" });
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  let buf = new Uint8Array(4096);
  let n = 0;
  try {
    for (;;) {
      if (n === buf.length) {
        const bigger = new Uint8Array(buf.length * 2);
        bigger.set(buf);
        buf = bigger;
      }
      const { done, value } = await reader.read(buf.subarray(n));
      if (done) {
        // The reader hands back the buffer it filled (detaching ours); keep its bytes.
        if (value) buf = new Uint8Array(value.buffer, 0, n);
        break;
      }
      buf = new Uint8Array(value.buffer);
      n += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  return buf.subarray(0, n);
}

/** What `child.output()` gives, read as above. */
export async function childOutput(
  child: Deno.ChildProcess,
): Promise<{ code: number; signal: Deno.Signal | null; stdout: Uint8Array; stderr: Uint8Array }> {
  const [stdout, stderr, status] = await Promise.all([
    readAllBytes(child.stdout),
    readAllBytes(child.stderr),
    child.status,
  ]);
  return { code: status.code, signal: status.signal, stdout, stderr };
}
