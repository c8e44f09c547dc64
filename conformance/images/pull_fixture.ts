/**
 * What the credential, TLS and signature tests share: a temp dir, small images pushed to an open
 * local registry whose storage a second (auth or TLS) instance then serves, and an ImageService
 * with its own registries.conf, certs.d and configuration, contacting loopback only.
 */
import { type Config, defaultConfig } from "../../src/config/options.ts";
import { errorMessage } from "../../src/errors.ts";
import { ImageService } from "../../src/image/image_service.ts";
import { Logger } from "../../src/log.ts";
import { startRegistry } from "../registry.ts";
import { buildLayer } from "./layer.ts";
import { buildImage } from "./oci.ts";
import { pushImage } from "./pusher.ts";

/** One image per repository, each different so each pull fetches its own blobs. */
export async function pushImages(
  dataDir: string,
  repos: string[],
): Promise<Record<string, string>> {
  const open = await startRegistry({ dataDir });
  try {
    const digests: Record<string, string> = {};
    for (const repo of repos) {
      const layer = await buildLayer([{ type: "file", path: "hello", data: `hi from ${repo}` }]);
      const image = await buildImage([layer], { cmd: ["/hello"] });
      digests[repo] = await pushImage({ registry: open.host, repo }, image, { tags: ["1"] });
    }
    return digests;
  } finally {
    await open.stop();
  }
}

export interface Puller {
  images: ImageService;
  config: Config;
  certsDir: string;
  /** Rewrites registries.conf (a list of insecure hosts) and reloads. */
  setInsecure(hosts: string[]): Promise<void>;
}

export async function makePuller(dir: string, o: { name: string }): Promise<Puller> {
  const root = `${dir}/${o.name}`;
  const certsDir = `${root}/certs.d`;
  await Deno.mkdir(certsDir, { recursive: true });
  const conf = `${root}/registries.conf`;
  await Deno.writeTextFile(conf, "");
  const config = defaultConfig();
  config.image.signature_policy_dir = `${root}/policies`;
  const images = new ImageService({
    root: `${root}/store`,
    log: new Logger({ sink: { write: () => {} } }),
    config: () => config,
    certsDir,
    env: (k) => (k === "CONTAINERS_REGISTRIES_CONF" ? conf : undefined),
  });
  await images.init();
  return {
    images,
    config,
    certsDir,
    setInsecure: async (hosts) => {
      const tables = hosts.map((h) => `[[registry]]\nlocation = "${h}"\ninsecure = true\n`);
      await Deno.writeTextFile(conf, tables.join("\n"));
      await images.reload();
    },
  };
}

/** The error message of a pull that must fail (its kind first), or "pulled". */
export async function pullError(
  images: ImageService,
  image: string,
  o: Parameters<ImageService["pull"]>[1],
): Promise<string> {
  try {
    await images.pull(image, o);
    return "pulled";
  } catch (err) {
    const kind = (err as { kind?: string }).kind ?? "?";
    return `${kind}: ${errorMessage(err)}`;
  }
}

export async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
