import { assert, assertEquals } from "../testing/asserts.ts";
import { CriTestClient } from "../testing/cri_client.ts";
import { Logger } from "../log.ts";
import { loadSchema } from "./schema.ts";
import { CriServer } from "./server.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(dir: string, versionDelayMs: number) {
  const server = new CriServer({
    socket: `${dir}/crio.sock`,
    schema: loadSchema(),
    handlers: {
      RuntimeService: {
        Version: async () => {
          await delay(versionDelayMs);
          return {
            version: "0.1.0",
            runtimeName: "slow",
            runtimeVersion: "1",
            runtimeApiVersion: "v1",
          };
        },
        GetContainerEvents: async function* (_req, ctx) {
          // No events: the stream stays open until the daemon ends it.
          await new Promise((r) => ctx.signal.addEventListener("abort", r));
          yield* [];
        },
      },
      ImageService: {},
    },
    log: new Logger({ sink: { write() {} } }),
    maxRecvBytes: 1 << 20,
    maxSendBytes: 1 << 20,
  });
  await server.listen();
  return server;
}

/** A bare HTTP/2 connection that sends the preface and an empty SETTINGS, then only listens. */
async function rawSession(path: string) {
  const conn = await Deno.connect({ transport: "unix", path });
  await conn.write(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
  await conn.write(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]));
  const frameTypes = (async () => {
    const bytes: number[] = [];
    const buf = new Uint8Array(4096);
    for (let n; (n = await conn.read(buf).catch(() => null)) !== null;) {
      bytes.push(...buf.subarray(0, n));
    }
    conn.close();
    const types: number[] = [];
    for (
      let at = 0;
      at + 9 <= bytes.length;
      at += 9 + ((bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2])
    ) {
      types.push(bytes[at + 3]);
    }
    return types;
  })();
  return { frameTypes };
}

Deno.test({
  name: "cri server: close() lets an in-flight call answer, ends streams, then refuses",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const server = await serve(dir, 400);
    const c = new CriTestClient(`${dir}/crio.sock`, loadSchema());
    try {
      const events = (async () => {
        let n = 0;
        for await (
          const _ of c.stream("RuntimeService", "GetContainerEvents", {
            signal: new AbortController().signal,
          })
        ) n++;
        return n;
      })().catch((err) => err);
      const raw = await rawSession(`${dir}/crio.sock`);
      const slow = c.call<{ runtimeName: string }>("RuntimeService", "Version");
      await delay(100);
      const t0 = Date.now();
      await server.close(5000);
      assertEquals((await slow).runtimeName, "slow", "the in-flight call got its answer");
      assertEquals(await events, 0, "the event stream ended cleanly");
      assert(Date.now() - t0 < 2000, "close() waited for the call, not for the grace period");
      assertEquals(
        await raw.frameTypes,
        [0x4, 0x4],
        "SETTINGS and its ACK, then the end: no GOAWAY",
      );
      const refused = await c.call("RuntimeService", "Version").then(
        () => "answered",
        () => "refused",
      );
      assertEquals(refused, "refused");
    } finally {
      c.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
