/**
 * Credentials against the real local registry (distribution v2.8): htpasswd mode with the CRI
 * AuthConfig (username/password, `auth`) and with global_auth_file, a clear Unauthenticated
 * error without them; then token mode with this project's token server (Bearer flow), whose
 * tokens are asked once per scope and never reused for other credentials.
 */
import { assert, assertEquals } from "../../src/testing/asserts.ts";
import { startRegistry } from "../registry.ts";
import { makeServerPki, makeSigningPki } from "./pki.ts";
import { makePuller, pullError, pushImages, withTempDir } from "./pull_fixture.ts";
import { startTokenServer } from "./token_server.ts";

const canRun = Deno.uid() === 0;
/** `htpasswd -Bbn -C 5 alice s3cret`: distribution only reads bcrypt entries. */
const HTPASSWD = "alice:$2y$05$8s75YQrTEXH8ymkXCBx.9u1F0k9UccT4A5dEXGi0R8l1jK2VCZSpu\n";
const GOOD = { username: "alice", password: "s3cret" };
const signal = () => AbortSignal.timeout(60_000);

Deno.test({
  name: "htpasswd registry: AuthConfig user/password, auth, global_auth_file; none is refused",
  ignore: !canRun,
  fn: () =>
    withTempDir("registry-auth-test-", async (dir) => {
      await pushImages(`${dir}/data`, ["auth/one"]);
      await Deno.writeTextFile(`${dir}/htpasswd`, HTPASSWD);
      const reg = await startRegistry({
        dataDir: `${dir}/data`,
        auth: { htpasswd: { realm: "crio-deno-test", path: `${dir}/htpasswd` } },
      });
      try {
        const p = await makePuller(dir, { name: "basic" });
        await p.setInsecure([reg.host]);
        const image = `${reg.host}/auth/one:1`;
        const none = await pullError(p.images, image, { signal: signal() });
        assert(none.startsWith("Unauthenticated: "), none);
        assert(none.includes(`registry ${reg.host}`) && none.includes("no credentials"), none);
        const bad = await pullError(p.images, image, {
          signal: signal(),
          auth: { username: "alice", password: "wrong" },
        });
        assert(bad.startsWith("Unauthenticated: ") && bad.includes("refused"), bad);

        const rec = await p.images.pull(image, { signal: signal(), auth: GOOD });
        await p.images.remove(rec.id);
        // A cached Basic header for the right password must not serve the wrong one.
        const after = await pullError(p.images, image, {
          signal: signal(),
          auth: { username: "alice", password: "wrong" },
        });
        assert(after.startsWith("Unauthenticated: "), after);
        const auth = btoa("alice:s3cret");
        assertEquals((await p.images.pull(image, { signal: signal(), auth: { auth } })).id, rec.id);
        await p.images.remove(rec.id);

        await Deno.writeTextFile(
          `${dir}/auth.json`,
          JSON.stringify({ auths: { [reg.host]: { auth } } }),
        );
        p.config.image.global_auth_file = `${dir}/auth.json`;
        await p.images.reload();
        assertEquals((await p.images.pull(image, { signal: signal() })).id, rec.id);
        assertEquals(p.images.list().map((r) => r.repoTags), [[image]]);
      } finally {
        await reg.stop();
      }
    }),
});

Deno.test({
  name: "token registry: Bearer flow through our token server, one token per scope",
  ignore: !canRun,
  fn: () =>
    withTempDir("registry-token-test-", async (dir) => {
      await pushImages(`${dir}/data`, ["auth/one", "auth/two"]);
      const pki = await makeServerPki(dir, "token-tls");
      const signer = await makeSigningPki(dir);
      const tokens = await startTokenServer({
        tls: pki,
        signer,
        service: "crio-deno-test-registry",
        issuer: "crio-deno-test-issuer",
        users: { alice: "s3cret" },
      });
      const reg = await startRegistry({
        dataDir: `${dir}/data`,
        auth: {
          token: {
            realm: tokens.realm,
            service: "crio-deno-test-registry",
            issuer: "crio-deno-test-issuer",
            rootcertbundle: signer.certPath,
          },
        },
      }).catch(async (err) => {
        await tokens.stop();
        throw err;
      });
      try {
        const p = await makePuller(dir, { name: "token" });
        await p.setInsecure([reg.host]);
        await Deno.mkdir(`${p.certsDir}/${tokens.host}`);
        await Deno.copyFile(pki.caPath, `${p.certsDir}/${tokens.host}/ca.crt`);
        const one = `${reg.host}/auth/one:1`;
        const none = await pullError(p.images, one, { signal: signal() });
        assert(none.startsWith("Unauthenticated: ") && none.includes(tokens.host), none);

        const rec = await p.images.pull(one, { signal: signal(), auth: GOOD });
        await p.images.remove(rec.id);
        await p.images.pull(one, { signal: signal(), auth: GOOD });
        await p.images.pull(`${reg.host}/auth/two:1`, { signal: signal(), auth: GOOD });
        const granted = tokens.requests.filter((r) => r.granted).map((r) => r.scope);
        assertEquals(granted, ["repository:auth/one:pull", "repository:auth/two:pull"]);
        assert(tokens.requests.every((r) => r.granted || r.user === ""), "alice refused");

        const wrong = await pullError(p.images, one, {
          signal: signal(),
          auth: { username: "alice", password: "wrong" },
        });
        assert(wrong.startsWith("Unauthenticated: ") && wrong.includes("refused"), wrong);
        assertEquals(tokens.requests.filter((r) => r.granted).length, 2);
      } finally {
        await reg.stop();
        await tokens.stop();
      }
    }),
});
