import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { makeServerPki } from "../../conformance/images/pki.ts";
import { defaultConfig } from "../config/options.ts";
import { ConfigError } from "../errors.ts";
import { Logger } from "../log.ts";
import { execRequest, FakeStreamBackend } from "../testing/fake_stream_backend.ts";
import { startStreaming } from "./streaming.ts";

const quiet = () => new Logger({ sink: { write() {} } });

Deno.test("streaming: TLS from stream_tls_cert/key; an exec over it reports its status", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  try {
    const pki = await makeServerPki(dir, "stream");
    const cfg = defaultConfig();
    cfg.api.stream_enable_tls = true;
    cfg.api.stream_tls_cert = pki.certPath;
    cfg.api.stream_tls_key = pki.keyPath;
    cfg.api.stream_tls_ca = pki.caPath;
    const log = new Logger({ sink: { write: (l) => void warnings.push(l) } });
    const server = await startStreaming(cfg, { backend: new FakeStreamBackend(), log });
    try {
      const url = new URL(server.url(execRequest(["exit", "9"])));
      assertEquals(url.protocol, "https:");
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: Number(url.port),
        caCerts: [pki.ca],
      });
      await conn.write(new TextEncoder().encode(
        `GET ${url.pathname} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n",
      ));
      let text = "";
      for await (const chunk of conn.readable) text += new TextDecoder("latin1").decode(chunk);
      assert(text.startsWith("HTTP/1.1 101 "), text.slice(0, 40));
      assert(text.includes('"reason":"NonZeroExitCode"'), text);
    } finally {
      await server.close();
    }
    assert(warnings.some((w) => w.includes("stream_tls_ca is not used")), warnings.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("streaming: TLS without a certificate is a configuration error", async () => {
  const cfg = defaultConfig();
  cfg.api.stream_enable_tls = true;
  await assertRejects(
    () => startStreaming(cfg, { backend: new FakeStreamBackend(), log: quiet() }),
    ConfigError,
    "stream_tls_cert",
  );
});
