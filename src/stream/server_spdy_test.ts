import { assert, assertEquals } from "../testing/asserts.ts";
import { execRequest, withStreamServer } from "../testing/fake_stream_backend.ts";
import { readText, spdyConnect } from "../testing/spdy_client.ts";
import { WsTestClient } from "../testing/ws_client.ts";
import { SpdySession } from "./spdy/session.ts";
import { OP } from "./websocket.ts";

const enc = (s: string) => new TextEncoder().encode(s);

function closeConn(c: Deno.Conn) {
  try {
    c.close();
  } catch { /* the session closed it */ }
}

Deno.test("stream server over SPDY v4: streams by streamType, output and exit status", async () => {
  await withStreamServer(async (server) => {
    const c = await spdyConnect(server.url(execRequest(["exit", "7"])), {
      protocols: ["v4.channel.k8s.io", "v3.channel.k8s.io"],
    });
    assertEquals(c.status, 101);
    assert(/X-Stream-Protocol-Version: v4.channel.k8s.io/.test(c.headers), c.headers);
    const s = c.session!;
    const error = await s.openStream({ streamType: "error" }, { fin: true });
    const stdout = await s.openStream({ streamType: "stdout" }, { fin: true });
    const stderr = await s.openStream({ streamType: "stderr" }, { fin: true });
    const [e, o, r] = await Promise.all([readText(error), readText(stdout), readText(stderr)]);
    assertEquals([o, r], ["", ""]);
    const status = JSON.parse(e);
    assertEquals(status.reason, "NonZeroExitCode");
    assertEquals(status.details.causes, [{ reason: "ExitCode", message: "7" }]);
    await s.closed.catch(() => {});
    closeConn(c.conn);
  });
});

Deno.test("stream server over SPDY: stdin is copied through and FIN ends it", async () => {
  await withStreamServer(async (server) => {
    const req = execRequest(["cat"], { stdin: true, stderr: false });
    const c = await spdyConnect(server.url(req), { protocols: ["v4.channel.k8s.io"] });
    const s = c.session!;
    const error = await s.openStream({ streamType: "error" }, { fin: true });
    const stdin = await s.openStream({ streamType: "stdin" });
    const stdout = await s.openStream({ streamType: "stdout" }, { fin: true });
    await stdin.write(enc("hello spdy\n"));
    await stdin.close();
    const [e, o] = await Promise.all([readText(error), readText(stdout)]);
    assertEquals(o, "hello spdy\n");
    assertEquals(JSON.parse(e).status, "Success");
    await s.closed.catch(() => {});
    closeConn(c.conn);
  });
});

Deno.test("stream server over SPDY: a client that never opens its streams is dropped", async () => {
  await withStreamServer(async (server, backend) => {
    const c = await spdyConnect(server.url(execRequest(["echo", "x"])), {
      protocols: ["v4.channel.k8s.io"],
    });
    await c.session!.openStream({ streamType: "error" }, { fin: true });
    await c.session!.closed.catch(() => {});
    assertEquals(backend.calls, []);
    closeConn(c.conn);
  });
});

Deno.test("stream server over SPDY: protocol negotiation errors", async () => {
  await withStreamServer(async (server) => {
    const none = await spdyConnect(server.url(execRequest(["echo"])), { protocols: [] });
    assertEquals(none.status, 400);
    closeConn(none.conn);
    const bad = await spdyConnect(server.url(execRequest(["echo"])), { protocols: ["v9"] });
    assertEquals(bad.status, 403);
    assert(/X-Accepted-Stream-Protocol-Versions: v4.channel.k8s.io/.test(bad.headers));
    closeConn(bad.conn);
  });
});

Deno.test("stream server: port-forward over SPDY pairs data and error streams by requestID", async () => {
  await withStreamServer(async (server) => {
    const url = server.url({ kind: "portforward", podId: "p1", ports: [] });
    const c = await spdyConnect(url, { protocols: ["portforward.k8s.io"] });
    const s = c.session!;
    const pairs = await Promise.all([80, 1].map(async (port, i) => {
      const h = { port: String(port), requestID: String(i) };
      const error = await s.openStream({ ...h, streamType: "error" }, { fin: true });
      const data = await s.openStream({ ...h, streamType: "data" });
      return { error, data };
    }));
    await pairs[0].data.write(enc("GET /"));
    await pairs[0].data.close();
    assertEquals(await readText(pairs[0].data), "80:GET /");
    const err = await readText(pairs[1].error);
    assert(err.includes("error forwarding port 1 to pod p1") && err.includes("refused"), err);
    await s.close({ now: true });
    closeConn(c.conn);
  });
});

Deno.test("stream server over SPDY v4: a tty session takes resizes on its resize stream", async () => {
  await withStreamServer(async (server, backend) => {
    const req = execRequest(["resize", "2"], { tty: true, stdin: true, stderr: false });
    const c = await spdyConnect(server.url(req), { protocols: ["v4.channel.k8s.io"] });
    const s = c.session!;
    const error = await s.openStream({ streamType: "error" }, { fin: true });
    await s.openStream({ streamType: "stdin" });
    await s.openStream({ streamType: "stdout" }, { fin: true });
    const resize = await s.openStream({ streamType: "resize" });
    await resize.write(enc('{"Width":80,"Height":24}\n{"Width":132,"Height":43}'));
    assertEquals(JSON.parse(await readText(error)).status, "Success");
    assertEquals(backend.resizes, [{ width: 80, height: 24 }, { width: 132, height: 43 }]);
    await s.close({ now: true });
    closeConn(c.conn);
  });
});

Deno.test("stream server: an idle session is closed after stream_idle_timeout", async () => {
  await withStreamServer(async (server) => {
    const req = execRequest(["cat"], { stdin: true, stderr: false });
    const c = await spdyConnect(server.url(req), { protocols: ["v4.channel.k8s.io"] });
    const s = c.session!;
    await s.openStream({ streamType: "error" }, { fin: true });
    await s.openStream({ streamType: "stdin" });
    await s.openStream({ streamType: "stdout" }, { fin: true });
    const t0 = performance.now();
    await s.closed.catch(() => {});
    const took = performance.now() - t0;
    assert(took >= 150 && took < 5000, `closed after ${took} ms`);
    closeConn(c.conn);
  }, { idleTimeoutMs: 200 });
});

Deno.test("stream server over SPDY v2: the error stream carries the bare message", async () => {
  await withStreamServer(async (server) => {
    const c = await spdyConnect(server.url(execRequest(["exit", "3"])), {
      protocols: ["v2.channel.k8s.io"],
    });
    const s = c.session!;
    const error = await s.openStream({ streamType: "error" }, { fin: true });
    await s.openStream({ streamType: "stdout" }, { fin: true });
    await s.openStream({ streamType: "stderr" }, { fin: true });
    assertEquals(
      await readText(error),
      "command terminated with non-zero exit code: exit status 3",
    );
    await s.closed.catch(() => {});
    closeConn(c.conn);
  });
});

Deno.test("stream server: port-forward over SPDY tunnelled in WebSocket, as client-go dials it", async () => {
  await withStreamServer(async (server) => {
    const url = server.url({ kind: "portforward", podId: "p1", ports: [] });
    const ws = await WsTestClient.connect(url, { protocols: ["SPDY/3.1+portforward.k8s.io"] });
    assertEquals(ws.status, 101);
    assert(/sec-websocket-protocol: SPDY\/3.1\+portforward.k8s.io/i.test(ws.headers));
    const transport = {
      readable: new ReadableStream<Uint8Array>({
        async pull(c) {
          const f = await ws.frame();
          if (!f || f.opcode === OP.close) return c.close();
          c.enqueue(f.payload);
        },
      }),
      writable: new WritableStream<Uint8Array>({
        // client-go writes frames in pieces, some empty; the server must take those in stride.
        write: async (chunk) => {
          await ws.send(OP.binary, new Uint8Array(0));
          await ws.send(OP.binary, chunk);
        },
      }),
    };
    const s = new SpdySession(transport, { role: "client", onStream: () => false });
    const h = { port: "8080", requestID: "0" };
    const error = await s.openStream({ ...h, streamType: "error" }, { fin: true });
    const data = await s.openStream({ ...h, streamType: "data" });
    await data.write(enc("tunnelled"));
    await data.close();
    assertEquals(await readText(data), "8080:tunnelled");
    assertEquals(await readText(error), "");
    await s.close({ now: true });
    ws.close();
  });
});
