/**
 * TLS against the real local registry with a CA made for the test: the CA in
 * certs.d/<host:port>/ca.crt is trusted, another CA gives a clear TLS error naming the host, and a
 * plain-HTTP registry is refused until registries.conf marks it insecure.
 */
import { assert, assertEquals } from "../../src/testing/asserts.ts";
import { startRegistry } from "../registry.ts";
import { makeServerPki } from "./pki.ts";
import { makePuller, pullError, pushImages, withTempDir } from "./pull_fixture.ts";

const canRun = Deno.uid() === 0;
const signal = () => AbortSignal.timeout(60_000);

async function trust(certsDir: string, o: { host: string; caPath: string }): Promise<void> {
  await Deno.mkdir(`${certsDir}/${o.host}`, { recursive: true });
  await Deno.copyFile(o.caPath, `${certsDir}/${o.host}/ca.crt`);
}

Deno.test({
  name: "https registry: certs.d CA trusted, a wrong CA refused naming the host",
  ignore: !canRun,
  fn: () =>
    withTempDir("registry-tls-test-", async (dir) => {
      await pushImages(`${dir}/data`, ["tls/one"]);
      const good = await makeServerPki(dir, "good");
      const other = await makeServerPki(dir, "other");
      const reg = await startRegistry({
        dataDir: `${dir}/data`,
        tls: { certificate: good.certPath, key: good.keyPath, ca: good.ca },
      });
      try {
        assert(reg.url.startsWith("https://"), reg.url);
        const image = `${reg.host}/tls/one:1`;
        const ok = await makePuller(dir, { name: "good" });
        await trust(ok.certsDir, { host: reg.host, caPath: good.caPath });
        const rec = await ok.images.pull(image, { signal: signal() });
        assertEquals(rec.repoTags, [image]);

        const wrong = await makePuller(dir, { name: "wrong" });
        await trust(wrong.certsDir, { host: reg.host, caPath: other.caPath });
        const msg = await pullError(wrong.images, image, { signal: signal() });
        assert(msg.includes(`TLS connection to registry ${reg.host} failed`), msg);
        assert(/certificate|UnknownIssuer/i.test(msg), msg);
        assert(msg.includes(`${wrong.certsDir}/${reg.host}/ca.crt`), msg);
        const none = await makePuller(dir, { name: "none" });
        const noCa = await pullError(none.images, image, { signal: signal() });
        assert(noCa.includes(`TLS connection to registry ${reg.host} failed`), noCa);
        assertEquals(wrong.images.list(), []);
      } finally {
        await reg.stop();
      }
    }),
});

Deno.test({
  name: "plain http registry: refused unless registries.conf marks it insecure",
  ignore: !canRun,
  fn: () =>
    withTempDir("registry-http-test-", async (dir) => {
      await pushImages(`${dir}/data`, ["plain/one"]);
      const reg = await startRegistry({ dataDir: `${dir}/data` });
      try {
        const p = await makePuller(dir, { name: "p" });
        const image = `${reg.host}/plain/one:1`;
        const msg = await pullError(p.images, image, { signal: signal() });
        assert(msg.startsWith("Unavailable: "), msg);
        assert(msg.includes(`TLS connection to registry ${reg.host} failed`), msg);
        assert(msg.includes("marked insecure in registries.conf"), msg);
        await p.setInsecure([reg.host]);
        assertEquals((await p.images.pull(image, { signal: signal() })).repoTags, [image]);
      } finally {
        await reg.stop();
      }
    }),
});
