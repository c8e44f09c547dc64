/**
 * Builds every image critest pulls and pushes it to the local registry under
 * its upstream path minus the host (registry.k8s.io/pause:3.9 -> pause:3.9),
 * so a registries.conf that maps each upstream host to the local registry
 * serves critest's unchanged references.
 */

import {
  critestCatalog,
  type Recipe,
  SUPPORTED_CRITEST_VERSIONS,
  type Unavailable,
} from "./critest_catalog.ts";
import { buildLayer, type Layer } from "./layer.ts";
import { buildImage, type BuiltImage } from "./oci.ts";
import { pushImage } from "./pusher.ts";
import { busyboxRootfs } from "./rootfs.ts";

export type { Unavailable } from "./critest_catalog.ts";

export interface CritestImage {
  /** The reference exactly as critest names it. */
  upstreamRef: string;
  /** Repository on the local registry, e.g. `e2e-test-images/busybox`. */
  localRepo: string;
  tag: string;
  /** Digest of what the tag points at (an index for multi-arch images). */
  digest: string;
}

export interface CritestImagesReport {
  images: CritestImage[];
  unavailable: Unavailable[];
  /** Upstream registry hosts to redirect to the local registry, sorted. */
  hosts: string[];
}

export interface BuildCritestImagesOptions {
  /** `127.0.0.1:PORT` of the local registry. */
  registry: string;
  /** cri-tools release whose image list to serve, e.g. `v1.37.0`. */
  critestVersion: string;
  /** Also serve the images `critest -benchmark` lists. */
  benchmark?: boolean;
  busybox?: string;
}

export interface UpstreamRef {
  host: string;
  repo: string;
  tag: string;
}

/** Splits a tag reference the way the distribution reference grammar does. */
export function parseUpstreamRef(ref: string): UpstreamRef {
  if (ref.includes("@")) throw new Error(`digest references cannot be rebuilt: ${ref}`);
  const slash = ref.indexOf("/");
  const first = slash < 0 ? "" : ref.slice(0, slash);
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  const host = hasHost ? first : "docker.io";
  let path = hasHost ? ref.slice(slash + 1) : ref;
  if (host === "docker.io" && !path.includes("/")) path = `library/${path}`;
  const colon = path.lastIndexOf(":");
  const hasTag = colon > path.lastIndexOf("/");
  return {
    host,
    repo: hasTag ? path.slice(0, colon) : path,
    tag: hasTag ? path.slice(colon + 1) : "latest",
  };
}

function normalizeVersion(version: string): string {
  return version.startsWith("v") ? version : `v${version}`;
}

export async function buildAndPushCritestImages(
  opts: BuildCritestImagesOptions,
): Promise<CritestImagesReport> {
  const version = normalizeVersion(opts.critestVersion);
  if (!(SUPPORTED_CRITEST_VERSIONS as readonly string[]).includes(version)) {
    throw new Error(
      `no image list for critest ${version}; known: ${SUPPORTED_CRITEST_VERSIONS.join(", ")}. ` +
        "Read the new release's pkg/validate constants and extend critest_catalog.ts.",
    );
  }
  const { recipes, unavailable } = critestCatalog({ benchmark: opts.benchmark });
  const base = await buildLayer(await busyboxRootfs({ busybox: opts.busybox }));
  const built = await Promise.all(recipes.map((r) => buildRecipe(r, base)));
  assertDistinct(recipes, built);

  // Seed the shared base layer once so every other repository mounts it.
  const mounts = new Map<string, string>();
  const first = pushTargets(recipes[0])[0];
  await pushImage({ registry: opts.registry, repo: first.repo }, built[0], {
    tags: [first.tag],
    mounts,
  });
  const pushed = await Promise.all(
    recipes.map((recipe, i) => pushRecipe(opts.registry, recipe, { image: built[i], mounts })),
  );
  const hosts = new Set<string>();
  for (const ref of [...recipes.flatMap((r) => r.refs), ...unavailable.map((u) => u.upstreamRef)]) {
    hosts.add(parseUpstreamRef(ref.split("@")[0]).host);
  }
  return { images: pushed.flat(), unavailable, hosts: [...hosts].sort() };
}

async function buildRecipe(recipe: Recipe, base: Layer): Promise<BuiltImage> {
  const layers: Layer[] = recipe.base === "busybox" ? [base] : [];
  if (recipe.extra) layers.push(await buildLayer(recipe.extra));
  return buildImage(layers, {
    ...recipe.config,
    format: recipe.format,
    multiArch: recipe.multiArch,
  });
}

/** Two recipes with one image ID would merge into one image in the runtime, breaking tag counts. */
function assertDistinct(recipes: readonly Recipe[], built: readonly BuiltImage[]): void {
  const owner = new Map<string, string>();
  built.forEach((image, i) => {
    const other = owner.get(image.top.digest);
    if (other) throw new Error(`${recipes[i].refs[0]} would be the same image as ${other}`);
    owner.set(image.top.digest, recipes[i].refs[0]);
  });
}

function pushTargets(recipe: Recipe): { repo: string; tag: string }[] {
  const seen = new Map<string, { repo: string; tag: string }>();
  for (const ref of recipe.refs) {
    const { repo, tag } = parseUpstreamRef(ref);
    seen.set(`${repo}:${tag}`, { repo, tag });
  }
  return [...seen.values()];
}

async function pushRecipe(
  registry: string,
  recipe: Recipe,
  ctx: { image: BuiltImage; mounts: Map<string, string> },
): Promise<CritestImage[]> {
  const byRepo = new Map<string, string[]>();
  for (const { repo, tag } of pushTargets(recipe)) {
    byRepo.set(repo, [...byRepo.get(repo) ?? [], tag]);
  }
  const digests = new Map<string, string>();
  for (const [repo, tags] of byRepo) {
    const push = () => pushImage({ registry, repo }, ctx.image, { tags, mounts: ctx.mounts });
    // One retry: pushes are idempotent, and a loaded machine has shown a registry-side race.
    const digest = await push().catch(() => push());
    digests.set(repo, digest);
  }
  return recipe.refs.map((upstreamRef) => {
    const { repo, tag } = parseUpstreamRef(upstreamRef);
    return { upstreamRef, localRepo: repo, tag, digest: digests.get(repo)! };
  });
}

/**
 * containers-registries.conf(5) v2 tables sending each upstream host to the
 * local registry over plain HTTP, plus one for the local registry itself.
 * Only tables are emitted, so a caller may put top-level keys before them.
 */
export function registriesConf(hosts: readonly string[], localHost: string): string {
  const q = (s: string) => JSON.stringify(s);
  const table = (prefix: string) =>
    `[[registry]]\nprefix = ${q(prefix)}\nlocation = ${q(localHost)}\ninsecure = true\n`;
  const unique = [...new Set([...hosts, localHost])];
  return [
    "# Generated by conformance/images: critest's registries served from a local registry.",
    ...unique.map(table),
  ].join("\n");
}
