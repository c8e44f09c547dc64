/**
 * security.md §4 items 9–12 through the ImageService against a lying registry: malformed digests
 * are refused before any request names them, wrong blob bytes and wrong manifests are refused and
 * leave nothing, credentials never follow a redirect or go to a foreign plain-http token realm.
 */
import { assert, assertEquals, AssertionError } from "../../src/testing/asserts.ts";
import { defaultConfig } from "../../src/config/options.ts";
import { errorMessage } from "../../src/errors.ts";
import { Logger } from "../../src/log.ts";
import { ImageService } from "../../src/image/image_service.ts";
import { buildLayer } from "./layer.ts";
import { imageConfig, imageManifest, MEDIA_TYPES } from "./oci.ts";
import {
  blobRoute,
  type LyingServer,
  manifestRoute,
  startLyingServer,
} from "./hostile_registry.ts";

const canRun = Deno.uid() === 0;
const enc = new TextEncoder();
const OCI = MEDIA_TYPES.oci.manifest;

async function goodImage() {
  const layer = await buildLayer([{ type: "file", path: "hello", data: "hi" }]);
  const config = await imageConfig([layer]);
  const manifest = await imageManifest(config, [layer]);
  return { layer, config, manifest };
}
type Good = Awaited<ReturnType<typeof goodImage>>;

/** Serves the good image's config and layer (or other layer bytes) under repo. */
function serveImage(s: LyingServer, repo: string, g: Good, layerBytes: Uint8Array = g.layer.blob) {
  blobRoute(s, { repo, digest: g.config.digest, bytes: g.config.bytes });
  blobRoute(s, { repo, digest: g.layer.digest, bytes: layerBytes });
}

function withLayerDigest(g: Good, digest: string): Uint8Array {
  const doc = JSON.parse(new TextDecoder().decode(g.manifest.bytes));
  doc.layers[0].digest = digest;
  return enc.encode(JSON.stringify(doc));
}

const BAD_DIGESTS: Record<string, string> = {
  "dotdot": "sha256:../../../../etc/passwd",
  "upper": `sha256:${"A".repeat(64)}`,
  "short": "sha256:abc",
  "md5": `md5:${"0".repeat(32)}`,
};

function setUpRoutes(s: LyingServer, g: Good): void {
  manifestRoute(s, { repo: "good", ref: "1", bytes: g.manifest.bytes, contentType: OCI });
  serveImage(s, "good", g);
  for (const [name, d] of Object.entries(BAD_DIGESTS)) {
    const bytes = withLayerDigest(g, d);
    manifestRoute(s, { repo: `digest-${name}`, ref: "1", bytes, contentType: OCI });
    serveImage(s, `digest-${name}`, g);
  }
  const flipped = g.layer.blob.slice();
  flipped[flipped.length - 9] ^= 0xff; // In the gzip CRC: same size, other digest.
  const wrong: Record<string, Uint8Array> = {
    "blob-mismatch": flipped,
    "blob-truncated": g.layer.blob.slice(0, g.layer.blob.length - 5),
    "blob-trailing": new Uint8Array([...g.layer.blob, 1, 2, 3]),
  };
  for (const [repo, bytes] of Object.entries(wrong)) {
    manifestRoute(s, { repo, ref: "1", bytes: g.manifest.bytes, contentType: OCI });
    serveImage(s, repo, g, bytes);
  }
  const doc = JSON.parse(new TextDecoder().decode(g.manifest.bytes));
  const other = enc.encode(JSON.stringify({ ...doc, annotations: { x: "y" } }));
  manifestRoute(s, { repo: "pinned", ref: g.manifest.digest, bytes: other, contentType: OCI });
  const docker = MEDIA_TYPES.docker.manifest;
  manifestRoute(s, { repo: "ctype", ref: "1", bytes: g.manifest.bytes, contentType: docker });
}

/**
 * `redirect`: Basic auth required, blobs 307 to the other host. `realm`: Bearer with a token realm
 * on the other host over plain http, which must get no credentials.
 */
function setUpAuthRoutes(s: LyingServer, other: LyingServer, g: Good): void {
  const guarded = (
    route: () => { status?: number; headers?: Record<string, string>; body?: Uint8Array },
    want: string,
    challenge: string,
  ) =>
  (req: Request) =>
    req.headers.get("authorization") === want
      ? route()
      : { status: 401, headers: { "www-authenticate": challenge } };
  const basic = `Basic ${btoa("alice:s3cret")}`;
  const bearer = "Bearer foreign-token";
  const realm = `Bearer realm="http://${other.host}/token",service="lying"`;
  const manifest = () => ({ headers: { "content-type": OCI }, body: g.manifest.bytes });
  const config = () => ({ body: g.config.bytes });
  const moved = () => ({ status: 307, headers: { location: `http://${other.host}/blob` } });
  s.routes.set("/v2/redirect/manifests/1", guarded(manifest, basic, 'Basic realm="lying"'));
  s.routes.set(
    `/v2/redirect/blobs/${g.config.digest}`,
    guarded(config, basic, 'Basic realm="lying"'),
  );
  s.routes.set(
    `/v2/redirect/blobs/${g.layer.digest}`,
    guarded(moved, basic, 'Basic realm="lying"'),
  );
  other.routes.set("/blob", { body: g.layer.blob });
  s.routes.set("/v2/realm/manifests/1", guarded(manifest, bearer, realm));
  s.routes.set(`/v2/realm/blobs/${g.config.digest}`, guarded(config, bearer, realm));
  s.routes.set(
    `/v2/realm/blobs/${g.layer.digest}`,
    guarded(() => ({ body: g.layer.blob }), bearer, realm),
  );
  other.routes.set("/token", { body: JSON.stringify({ token: "foreign-token", expires_in: 300 }) });
}

const REFUSED: [string, string][] = [
  ["digest-dotdot", "unsupported algorithm|lowercase hex"],
  ["digest-upper", "lowercase hex"],
  ["digest-short", "lowercase hex"],
  ["digest-md5", "unsupported algorithm"],
  ["blob-mismatch", "digest mismatch|corrupt|gzip|invalid"],
  ["blob-truncated", "got \\d+ bytes|truncated|unexpected end|corrupt|gzip"],
  ["blob-trailing", "larger than"],
  ["ctype", "media type|Content-Type"],
];

Deno.test({
  name: "a lying registry: bad digests, bytes and manifests refused; no credential leaves",
  ignore: !canRun,
  fn: async () => {
    const s = startLyingServer();
    const other = startLyingServer("localhost");
    const dir = await Deno.makeTempDir({ prefix: "lying-registry-test-" });
    try {
      const g = await goodImage();
      setUpRoutes(s, g);
      setUpAuthRoutes(s, other, g);
      await Deno.writeTextFile(
        `${dir}/registries.conf`,
        `[[registry]]\nlocation = "${s.host}"\ninsecure = true\n`,
      );
      const config = defaultConfig();
      const images = new ImageService({
        root: `${dir}/root`,
        log: new Logger({ sink: { write: () => {} } }),
        config: () => config,
        env: (k) => (k === "CONTAINERS_REGISTRIES_CONF" ? `${dir}/registries.conf` : undefined),
      });
      await images.init();
      const signal = AbortSignal.timeout(30_000);
      const failures: string[] = [];
      for (const [repo, error] of REFUSED) {
        const err = await images.pull(`${s.host}/${repo}:1`, { signal }).then(
          () => undefined,
          (e) => e,
        );
        const msg = err ? errorMessage(err) : "pulled";
        if (!new RegExp(error).test(msg)) failures.push(`${repo}: ${msg}`);
      }
      const pin = await images.pull(`${s.host}/pinned@${g.manifest.digest}`, { signal })
        .then(() => "pulled", (e) => errorMessage(e));
      if (!pin.includes("manifest digest mismatch")) failures.push(`pinned: ${pin}`);
      const bad = await images.pull(`${s.host}/good@sha256:../x`, { signal })
        .then(() => "pulled", (e) => errorMessage(e));
      if (!bad.includes("lowercase hex")) failures.push(`ref digest: ${bad}`);
      assertEquals(failures, []);
      // Bad digests never reached a URL; nothing was stored or left half-done.
      const badSeen = s.seen.filter((r) =>
        r.path.includes("..") || /\/blobs\/(md5|sha256:[^0-9a-f]|sha256:abc$)/.test(r.path)
      );
      assertEquals(badSeen, []);
      assert(
        !s.seen.some((r) => r.path.startsWith("/v2/good/")),
        "the bad reference sent a request",
      );
      assertEquals(images.list(), []);
      assertEquals([...Deno.readDirSync(`${dir}/root/layers/tmp`)], []);

      // The same content from an honest repo pulls; so do the auth repos, without leaking.
      const rec = await images.pull(`${s.host}/good:1`, { signal });
      const creds = { username: "alice", password: "s3cret" };
      assertEquals((await images.pull(`${s.host}/redirect:1`, { signal, auth: creds })).id, rec.id);
      await images.remove(rec.id); // So the layer is fetched again through the redirect.
      assertEquals((await images.pull(`${s.host}/redirect:1`, { signal, auth: creds })).id, rec.id);
      await images.remove(rec.id);
      assertEquals((await images.pull(`${s.host}/realm:1`, { signal, auth: creds })).id, rec.id);
      const blobHits = other.seen.filter((r) => r.path === "/blob");
      const tokenHits = other.seen.filter((r) => r.path.startsWith("/token"));
      assert(blobHits.length >= 1 && tokenHits.length >= 1, "redirect and realm were used");
      for (const r of other.seen) {
        if (r.authorization !== null) {
          throw new AssertionError(`credentials sent to ${r.host}${r.path}: ${r.authorization}`);
        }
      }
    } finally {
      await s.stop();
      await other.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
