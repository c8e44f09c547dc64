/**
 * Content digests. Every digest that comes from a request, a manifest or a registry is checked
 * here before it is used in a URL or joined into a path: a string like `sha256:../x` must never
 * reach the network or the filesystem.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "../errors.ts";

const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

/** A digest string that has passed parseDigest: `algorithm:lowercase-hex` of the right length. */
export type Digest = string & { readonly __digest: true };

/** Validates a digest; `what` names its origin in the error. */
export function parseDigest(value: unknown, what = "digest"): Digest {
  if (typeof value !== "string") throw new InvalidArgumentError(`${what}: not a string`);
  const colon = value.indexOf(":");
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  const length = HEX_LENGTH[algorithm];
  if (colon < 0 || length === undefined) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(value)}: unsupported algorithm (sha256 or sha512)`,
    );
  }
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new InvalidArgumentError(
      `${what} ${JSON.stringify(value)}: expected ${length} lowercase hex digits`,
    );
  }
  return value as Digest;
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(":") + 1);
}

export function digestAlgorithm(d: Digest): string {
  return d.slice(0, d.indexOf(":"));
}

/** An incremental hasher for the algorithm of an expected digest. */
export class Hasher {
  readonly #hash;
  readonly algorithm: string;
  constructor(algorithm = "sha256") {
    this.algorithm = algorithm;
    this.#hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  digest(): Digest {
    return `${this.algorithm}:${this.#hash.digest("hex")}` as Digest;
  }
}

export function digestOf(bytes: Uint8Array | string, algorithm = "sha256"): Digest {
  const h = new Hasher(algorithm);
  h.update(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  return h.digest();
}

/** The layer chain IDs of the OCI image spec: chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) {
    out.push(out.length === 0 ? d : digestOf(`${out[out.length - 1]} ${d}`));
  }
  return out;
}
