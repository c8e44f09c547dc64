/**
 * The session against the real client library: tools/spdy_interop (moby/spdystream, as under
 * client-go's exec/attach/port-forward) talks over loopback TCP to a session in echo mode.
 * Skipped when `go` is missing or the tool does not build offline from the module cache.
 */
import { assertEquals } from "../../testing/asserts.ts";
import { SpdySession } from "./session.ts";
import { echo } from "./test_peer.ts";

const TOOL_DIR = new URL("../../../tools/spdy_interop/", import.meta.url).pathname;

async function buildTool(out: string): Promise<boolean> {
  try {
    const r = await new Deno.Command("go", {
      args: ["build", "-o", out, "."],
      cwd: TOOL_DIR,
      env: { GOFLAGS: "-mod=mod", GOSUMDB: "off", GOPROXY: "off" },
      stdout: "null",
      stderr: "null",
    }).output();
    return r.success;
  } catch {
    return false; // no go on PATH
  }
}

Deno.test("moby/spdystream opens streams, writes, reads echoes, pings and closes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spdy-interop-" });
  try {
    const tool = `${dir}/spdy_interop`;
    if (!await buildTool(tool)) return;
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const child = new Deno.Command(tool, {
      args: [`127.0.0.1:${listener.addr.port}`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const conn = await listener.accept();
    const session = new SpdySession(conn, {
      onStream: (s) => s.headers.get("x-refuse") !== "yes" && echo(s),
    });
    await session.closed;
    const out = await child;
    const dec = new TextDecoder();
    assertEquals(out.code, 0, dec.decode(out.stderr));
    assertEquals(JSON.parse(dec.decode(out.stdout)), {
      echoes: ["stdin:hello stdin", `${7 + 1024 * 1024} bytes`, "error:e"],
      large: true,
      pinged: true,
      refused: true,
      errors: null,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
