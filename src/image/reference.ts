/**
 * Image references, normalized the way CRI-O (containers/image, docker/distribution) does:
 * `busybox` → `docker.io/library/busybox:latest`, `index.docker.io` → `docker.io`, a digest kept
 * as given. Whether a name was short (no registry host) is kept, because short names go through
 * registries.conf resolution instead of being pulled directly.
 */
import { InvalidArgumentError } from "../errors.ts";
import { type Digest, parseDigest } from "./digest.ts";

export const DOCKER_HUB = "docker.io";

export interface ImageRef {
  /** Registry host, with port if any: `docker.io`, `127.0.0.1:5000`. */
  domain: string;
  /** Repository path: `library/busybox`. */
  path: string;
  tag?: string;
  digest?: Digest;
}

export interface ParsedRef extends ImageRef {
  /** The input named no registry host: resolve through registries.conf. */
  short: boolean;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?\.?)+(?::\d+)?$|^\[[0-9a-fA-F:.]+\](?::\d+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME = 255;

function refuse(input: string, why: string): never {
  throw new InvalidArgumentError(`invalid image reference ${JSON.stringify(input)}: ${why}`);
}

/** True when the first path component names a registry rather than a repository. */
function isDomain(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost" ||
    first !== first.toLowerCase();
}

/** Parses and normalizes a reference; adds `latest` only when neither tag nor digest is given. */
export function parseReference(input: string): ParsedRef {
  if (input === "") refuse(input, "empty");
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = parseDigest(rest.slice(at + 1), `digest of ${JSON.stringify(input)}`);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) refuse(input, `bad tag ${JSON.stringify(tag)}`);
  }
  const slash = rest.indexOf("/");
  const short = slash < 0 || !isDomain(rest.slice(0, slash));
  let domain = short ? DOCKER_HUB : rest.slice(0, slash);
  let path = short ? rest : rest.slice(slash + 1);
  if (!short && !DOMAIN.test(domain)) refuse(input, `bad registry host ${JSON.stringify(domain)}`);
  if (domain === "index.docker.io") domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  for (const c of path.split("/")) {
    if (c !== c.toLowerCase()) refuse(input, "repository name must be lowercase");
    if (!COMPONENT.test(c)) refuse(input, `bad path component ${JSON.stringify(c)}`);
  }
  if (domain.length + 1 + path.length > MAX_NAME) refuse(input, "name longer than 255 characters");
  if (tag === undefined && digest === undefined) tag = "latest";
  return { domain, path, tag, digest, short };
}

/** `domain/path`, the repository's full name. */
export function repoName(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** `domain/path:tag`, `domain/path@digest` or both (tag first), as CRI-O prints them. */
export function formatRef(ref: ImageRef): string {
  let s = repoName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** What an image status lookup may be: an image ID (or `sha256:` + ID), or a reference. */
export type ImageLookup =
  | { kind: "id"; id: string }
  | { kind: "ref"; ref: ParsedRef };

/** Classifies a CRI ImageSpec.image string for ImageStatus / RemoveImage / ListImages filters. */
export function parseLookup(input: string): ImageLookup {
  const id = input.startsWith("sha256:") ? input.slice(7) : input;
  if (/^[0-9a-f]{64}$/.test(id)) return { kind: "id", id };
  return { kind: "ref", ref: parseReference(input) };
}
