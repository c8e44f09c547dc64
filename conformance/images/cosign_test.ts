/**
 * Signature policy against the real local registry: images signed here with a key made here.
 * A correctly signed image pulls (by tag and by digest); unsigned, signed by another key, signed
 * for another digest or another tag, and `reject` scopes are refused with the kubelet's
 * SignatureValidationFailed error and leave nothing stored; a pod namespace's own policy file
 * wins over the global one.
 */
import { assert, assertEquals } from "../../src/testing/asserts.ts";
import { startRegistry } from "../registry.ts";
import { makeCosignKey, pushSignatures, signImage } from "./cosign.ts";
import { buildLayer } from "./layer.ts";
import { buildImage } from "./oci.ts";
import { pushImage } from "./pusher.ts";
import { makePuller, pullError, withTempDir } from "./pull_fixture.ts";

const canRun = Deno.uid() === 0;
const signal = () => AbortSignal.timeout(60_000);
const REPOS = ["signed/app", "unsigned/app", "otherkey/app", "otherdigest/app", "rejected/app"];

async function pushAll(host: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const repo of REPOS) {
    const layer = await buildLayer([{ type: "file", path: "id", data: repo }]);
    const image = await buildImage([layer], { cmd: ["/id"] });
    digests[repo] = await pushImage({ registry: host, repo }, image, { tags: ["1", "2"] });
  }
  return digests;
}

async function signAll(host: string, digests: Record<string, string>) {
  const trusted = await makeCosignKey();
  const stranger = await makeCosignKey();
  const sign = async (repo: string, o: { key: typeof trusted; digest: string }) => {
    const sig = await signImage(o.key, { reference: `${host}/${repo}:1`, digest: o.digest });
    await pushSignatures({ registry: host, repo }, { digest: digests[repo], signatures: [sig] });
  };
  await sign("signed/app", { key: trusted, digest: digests["signed/app"] });
  await sign("otherkey/app", { key: stranger, digest: digests["otherkey/app"] });
  await sign("otherdigest/app", { key: trusted, digest: digests["signed/app"] });
  await sign("rejected/app", { key: trusted, digest: digests["rejected/app"] });
  return trusted;
}

Deno.test({
  name: "sigstoreSigned policy: valid signature pulls; unsigned, wrong key, digest, tag refused",
  ignore: !canRun,
  fn: () =>
    withTempDir("cosign-test-", async (dir) => {
      const reg = await startRegistry();
      try {
        const digests = await pushAll(reg.host);
        const trusted = await signAll(reg.host, digests);
        await Deno.writeTextFile(`${dir}/trusted.pub`, trusted.publicPem);
        const p = await makePuller(dir, { name: "p" });
        await p.setInsecure([reg.host]);
        await Deno.writeTextFile(
          `${dir}/policy.json`,
          JSON.stringify({
            default: [{ type: "insecureAcceptAnything" }],
            transports: {
              docker: {
                [reg.host]: [{ type: "sigstoreSigned", keyPath: `${dir}/trusted.pub` }],
                [`${reg.host}/rejected`]: [{ type: "reject" }],
              },
            },
          }),
        );
        p.config.image.signature_policy = `${dir}/policy.json`;
        const at = (repo: string, tag = "1") => `${reg.host}/${repo}:${tag}`;

        const rec = await p.images.pull(at("signed/app"), { signal: signal() });
        const byDigest = `${reg.host}/signed/app@${digests["signed/app"]}`;
        assertEquals((await p.images.pull(byDigest, { signal: signal() })).id, rec.id);
        const refused: [string, string][] = [
          [at("unsigned/app"), "no sigstore signature found"],
          [at("otherkey/app"), "does not verify with the policy key"],
          [at("otherdigest/app"), `signature is for ${digests["signed/app"]}`],
          [at("signed/app", "2"), "does not match"],
          [at("rejected/app"), "is rejected by policy"],
        ];
        for (const [image, why] of refused) {
          const msg = await pullError(p.images, image, { signal: signal() });
          assert(msg.startsWith("Unknown: SignatureValidationFailed: "), `${image}: ${msg}`);
          assert(msg.includes(why) && msg.includes(`${dir}/policy.json`), `${image}: ${msg}`);
        }
        // Only the signed image is stored: one record, its one layer.
        assertEquals(p.images.list().map((r) => r.id), [rec.id]);
        assertEquals((await p.images.layers.list()).length, 1);
      } finally {
        await reg.stop();
      }
    }),
});

Deno.test({
  name: "per-namespace policy file wins over the global policy",
  ignore: !canRun,
  fn: () =>
    withTempDir("cosign-ns-test-", async (dir) => {
      const reg = await startRegistry();
      try {
        const digests = await pushAll(reg.host);
        await signAll(reg.host, digests);
        const p = await makePuller(dir, { name: "p" });
        await p.setInsecure([reg.host]);
        const policies = p.config.image.signature_policy_dir;
        await Deno.mkdir(policies, { recursive: true });
        const policy = (type: string) => JSON.stringify({ default: [{ type }] });
        await Deno.writeTextFile(`${dir}/global.json`, policy("reject"));
        await Deno.writeTextFile(`${policies}/open.json`, policy("insecureAcceptAnything"));
        p.config.image.signature_policy = `${dir}/global.json`;
        const image = `${reg.host}/unsigned/app:1`;

        const global = await pullError(p.images, image, { signal: signal(), namespace: "other" });
        assert(global.includes("SignatureValidationFailed") && global.includes("global.json"));
        const rec = await p.images.pull(image, { signal: signal(), namespace: "open" });
        assertEquals(rec.repoTags, [image]);
        await p.images.remove(rec.id);
        await Deno.writeTextFile(`${dir}/global.json`, policy("insecureAcceptAnything"));
        await Deno.writeTextFile(`${policies}/strict.json`, policy("reject"));
        const strict = await pullError(p.images, image, { signal: signal(), namespace: "strict" });
        assert(strict.includes(`${policies}/strict.json`), strict);
        const bad = await pullError(p.images, image, { signal: signal(), namespace: "../x" });
        assert(bad.startsWith("InvalidArgument: ") && bad.includes("namespace"), bad);
        assertEquals(p.images.list(), []);
      } finally {
        await reg.stop();
      }
    }),
});
