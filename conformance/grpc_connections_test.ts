/**
 * Many short gRPC connections through bin/crio, as a node sees from `crictl` in scripts and from
 * monitoring agents: each connects, makes one call, says GOAWAY and hangs up. Deno 2.9's HTTP/2
 * layer used to abort the daemon within a few such connections (src/cri/goaway_filter.ts); the
 * daemon must still answer afterwards and its log must show no abort.
 */
import { assert, assertEquals } from "../src/testing/asserts.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { cacheDir, k8sMinor } from "../src/cri/k8s_versions.ts";
import { startDaemon } from "./daemon.ts";
import { unmountUnder } from "./leaks.ts";

const CRICTL = `${cacheDir()}/cri-tools/${k8sMinor("1.37").criTools}/crictl`;
const exists = (p: string) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
};
const canRun = Deno.uid() === 0 && exists("/usr/bin/conmon") && exists("/usr/sbin/runc");

/** One frame: 24-bit length, type, flags, stream id. */
function frame(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(9 + payload.length);
  const v = new DataView(f.buffer);
  v.setUint32(0, payload.length << 8 | type);
  f[4] = flags;
  v.setUint32(5, stream);
  f.set(payload, 9);
  return f;
}

/** HPACK literal header fields without indexing, new names, no Huffman (RFC 7541 6.2.2). */
function hpack(headers: [string, string][]): Uint8Array {
  const te = new TextEncoder();
  const out: number[] = [];
  for (const [name, value] of headers) {
    out.push(0);
    for (const s of [name, value]) out.push(s.length, ...te.encode(s));
  }
  return new Uint8Array(out);
}

/** A Version call written byte by byte, then GOAWAY and an immediate close, as grpc-go closes. */
async function rawCallThenGoaway(socket: string): Promise<boolean> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    const headers = hpack([
      [":method", "POST"],
      [":scheme", "http"],
      [":path", "/runtime.v1.RuntimeService/Version"],
      [":authority", "localhost"],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ]);
    const parts = [
      new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
      frame(0x4, 0, 0, new Uint8Array()),
      frame(0x1, 0x4, 1, headers),
      frame(0x0, 0x1, 1, new Uint8Array(5)),
    ];
    for (const p of parts) await conn.write(p);
    // Read until the server's trailers end stream 1 (a HEADERS frame with END_STREAM).
    let buf = new Uint8Array();
    const chunk = new Uint8Array(16384);
    for (;;) {
      const n = await conn.read(chunk);
      if (n === null) return false;
      buf = new Uint8Array([...buf, ...chunk.subarray(0, n)]);
      for (let at = 0; at + 9 <= buf.length;) {
        const len = (buf[at] << 16) | (buf[at + 1] << 8) | buf[at + 2];
        if (at + 9 + len > buf.length) break;
        const stream = new DataView(buf.buffer, at + 5, 4).getUint32(0) & 0x7fffffff;
        if (buf[at + 3] === 0x1 && (buf[at + 4] & 0x1) && stream === 1) {
          // As Go and Node clients do: acknowledge the server's SETTINGS, then GOAWAY.
          await conn.write(
            new Uint8Array([
              ...frame(0x4, 0x1, 0, new Uint8Array()),
              ...frame(0x7, 0, 0, new Uint8Array(8)),
            ]),
          );
          return true;
        }
        at += 9 + len;
      }
    }
  } finally {
    conn.close();
  }
}

Deno.test({
  name: "grpc: hundreds of short connections that end with GOAWAY leave the daemon serving",
  ignore: !canRun,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "grpc-conns-test-" });
    await Deno.writeTextFile(`${dir}/registries.conf`, "");
    const d = await startDaemon(`${dir}/d`, {
      runtime: "runc",
      k8s: "1.37",
      registriesConf: `${dir}/registries.conf`,
    });
    try {
      let answered = 0;
      for (let i = 0; i < 300; i++) if (await rawCallThenGoaway(d.socket)) answered++;
      assertEquals(answered, 300, "every raw call got its trailers");
      for (let i = 0; i < 100; i++) {
        const c = new CriTestClient(d.socket, loadSchema());
        await c.call("RuntimeService", "Version");
        c.close();
      }
      if (exists(CRICTL)) {
        for (let i = 0; i < 50; i++) {
          const out = await new Deno.Command(CRICTL, {
            args: ["--runtime-endpoint", d.endpoint, "version"],
            stdout: "null",
            stderr: "null",
          }).output();
          assert(out.success, `crictl version #${i} failed`);
        }
      }
      const c = new CriTestClient(d.socket, loadSchema());
      const v = await c.call<{ runtimeName: string }>("RuntimeService", "Version");
      c.close();
      assertEquals(v.runtimeName, "crio-deno");
      const log = await Deno.readTextFile(d.logFile);
      assert(!/Assertion|panicked|SIGSEGV/.test(log), "the daemon log shows an abort");
    } finally {
      await d.child.stop();
      await unmountUnder(dir);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
