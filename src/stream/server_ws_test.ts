import { assert, assertEquals } from "../testing/asserts.ts";
import { execRequest, withStreamServer } from "../testing/fake_stream_backend.ts";
import { WsTestClient } from "../testing/ws_client.ts";
import { OP } from "./websocket.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Reads channel messages until the server closes; returns text per channel. */
async function collect(c: WsTestClient, base64 = false): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (;;) {
    const f = await c.frame();
    if (!f || f.opcode === OP.close) break;
    const ch = base64 ? f.payload[0] - 48 : f.payload[0];
    const body = base64 ? atob(dec(f.payload.subarray(1))) : dec(f.payload.subarray(1));
    out.set(ch, (out.get(ch) ?? "") + body);
  }
  c.close();
  return out;
}

Deno.test("stream server over WebSocket v5: exec output, Success status, token used once", async () => {
  await withStreamServer(async (server) => {
    const url = server.url(execRequest(["echo", "hello", "oops"]));
    const c = await WsTestClient.connect(url, { protocols: ["v5.channel.k8s.io"] });
    assertEquals(c.status, 101);
    assert(/sec-websocket-protocol: v5.channel.k8s.io/i.test(c.headers));
    const out = await collect(c);
    assertEquals(out.get(1), "hello");
    assertEquals(out.get(2), "oops");
    assertEquals(JSON.parse(out.get(3)!), { metadata: {}, status: "Success" });
    const again = await WsTestClient.connect(url, { protocols: ["v5.channel.k8s.io"] });
    assertEquals(again.status, 404);
    again.close();
  });
});

Deno.test("stream server over WebSocket: a non-zero exit is NonZeroExitCode with the code", async () => {
  await withStreamServer(async (server) => {
    const c = await WsTestClient.connect(server.url(execRequest(["exit", "3"])), {
      protocols: ["v4.channel.k8s.io"],
    });
    const status = JSON.parse((await collect(c)).get(3)!);
    assertEquals(status.status, "Failure");
    assertEquals(status.reason, "NonZeroExitCode");
    assertEquals(status.details, { causes: [{ reason: "ExitCode", message: "3" }] });
    const f = await WsTestClient.connect(server.url(execRequest(["nosuch"])), {
      protocols: ["v4.channel.k8s.io"],
    });
    const failed = JSON.parse((await collect(f)).get(3)!);
    assertEquals(failed.reason, "InternalError");
    assert(failed.message.includes("executable file not found"), failed.message);
  });
});

Deno.test("stream server over WebSocket v5: stdin, then the close signal ends it", async () => {
  await withStreamServer(async (server) => {
    const req = execRequest(["cat"], { stdin: true, stderr: false });
    const c = await WsTestClient.connect(server.url(req), { protocols: ["v5.channel.k8s.io"] });
    await c.send(OP.binary, new Uint8Array([0, ...enc("ping\n")]));
    await c.send(OP.binary, new Uint8Array([255, 0]));
    const out = await collect(c);
    assertEquals(out.get(1), "ping\n");
    assertEquals(JSON.parse(out.get(3)!).status, "Success");
  });
});

Deno.test("stream server over base64.channel.k8s.io: text frames, plain error text", async () => {
  await withStreamServer(async (server) => {
    const c = await WsTestClient.connect(server.url(execRequest(["exit", "2"])), {
      protocols: ["base64.channel.k8s.io"],
    });
    const out = await collect(c, true);
    assertEquals(out.get(1), "");
    assertEquals(out.get(3), "command terminated with non-zero exit code: exit status 2");
  });
});

Deno.test("stream server over WebSocket: tty resizes reach the backend", async () => {
  await withStreamServer(async (server, backend) => {
    const req = execRequest(["resize", "2"], { tty: true, stdin: true, stderr: false });
    const c = await WsTestClient.connect(server.url(req), { protocols: ["v5.channel.k8s.io"] });
    await c.send(OP.binary, new Uint8Array([4, ...enc('{"Width":80,"Height":24}{"width":100,')]));
    await c.send(OP.binary, new Uint8Array([4, ...enc('"height":40}')]));
    await collect(c);
    assertEquals(backend.resizes, [{ width: 80, height: 24 }, { width: 100, height: 40 }]);
  });
});

Deno.test("stream server over WebSocket: a malformed frame ends that session only", async () => {
  await withStreamServer(async (server) => {
    const req = execRequest(["cat"], { stdin: true, stderr: false });
    const bad = await WsTestClient.connect(server.url(req), { protocols: ["v5.channel.k8s.io"] });
    const good = await WsTestClient.connect(server.url(req), { protocols: ["v5.channel.k8s.io"] });
    await bad.send(OP.binary, new Uint8Array([0, 1, 2]), { mask: false });
    const closes: number[] = [];
    for (;;) {
      const f = await bad.frame();
      if (!f) break;
      if (f.opcode === OP.close) closes.push((f.payload[0] << 8) | f.payload[1]);
    }
    bad.close();
    assertEquals(closes, [1002]);
    await good.send(OP.binary, new Uint8Array([0, ...enc("still here")]));
    await good.send(OP.binary, new Uint8Array([255, 0]));
    assertEquals((await collect(good)).get(1), "still here");
  });
});

Deno.test("stream server: port-forward over v4.channel.k8s.io, port first, error channel", async () => {
  await withStreamServer(async (server) => {
    const url = server.url({ kind: "portforward", podId: "p1", ports: [8080, 1] });
    const c = await WsTestClient.connect(url, { protocols: ["v4.channel.k8s.io"] });
    await c.send(OP.binary, new Uint8Array([0, ...enc("GET")]));
    const seen = new Map<number, number[]>();
    for (let i = 0; i < 5; i++) {
      const f = (await c.frame())!;
      seen.set(f.payload[0], [...(seen.get(f.payload[0]) ?? []), ...f.payload.subarray(1)]);
    }
    assertEquals(seen.get(0)!.slice(0, 2), [0x90, 0x1f]); // 8080 little-endian
    assertEquals(seen.get(1), [0x90, 0x1f]);
    assertEquals(seen.get(2), [1, 0]);
    const err = dec(new Uint8Array((await c.frame())!.payload.subarray(1)));
    assert(err.includes("error forwarding port 1") && err.includes("connection refused"), err);
    c.close();
  });
});

Deno.test("stream server: unknown routes, wrong kinds and bad heads get HTTP errors", async () => {
  await withStreamServer(async (server) => {
    const portUrl = server.url({ kind: "portforward", podId: "p1", ports: [] });
    const asExec = portUrl.replace("/portforward/", "/exec/");
    for (const [url, want] of [[asExec, 404], [`${server.baseUrl}/nothing`, 404]] as const) {
      const c = await WsTestClient.connect(url, { protocols: ["v4.channel.k8s.io"] });
      assertEquals(c.status, want);
      c.close();
    }
    const c = await WsTestClient.connect(server.url(execRequest(["echo"])), {
      extraHeaders: ["Bad Header: x"],
    });
    assertEquals(c.status, 400);
    c.close();
  });
});

Deno.test("stream server: past maxConnections a connection gets 503; a silent one is dropped", async () => {
  await withStreamServer(async (server) => {
    const req = execRequest(["cat"], { stdin: true, stderr: false });
    const first = await WsTestClient.connect(server.url(req), { protocols: ["v5.channel.k8s.io"] });
    assertEquals(first.status, 101);
    const second = await WsTestClient.connect(server.url(req), {
      protocols: ["v5.channel.k8s.io"],
    });
    assertEquals(second.status, 503);
    second.close();
    await first.send(OP.binary, new Uint8Array([255, 0]));
    await collect(first);
    const port = Number(new URL(server.baseUrl).port);
    const silent = await Deno.connect({ hostname: "127.0.0.1", port });
    const t0 = performance.now();
    assertEquals(await silent.read(new Uint8Array(16)), null);
    assert(performance.now() - t0 < 5000);
    silent.close();
  }, { maxConnections: 1, headTimeoutMs: 200 });
});
