/**
 * One pull: for each candidate name and each of its sources (mirrors first), fetch the manifest
 * (verifying its digest on the exact bytes), pick this platform from an index, fetch and verify
 * the config, then make sure every layer is in the layer store (shared, bounded, reused). The
 * image record is written last. A pull that makes no progress for pull_progress_timeout is
 * aborted with a clear error.
 */
import {
  CriError,
  DeadlineExceededError,
  errorMessage,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  SignatureValidationError,
  UnauthenticatedError,
} from "../errors.ts";
import type { Logger } from "../log.ts";
import type { LayerStore } from "../storage/layer_store.ts";
import { type AuthFile, type Credentials, lookupAuth } from "./auth.ts";
import { chainIds, type Digest, digestHex, digestOf } from "./digest.ts";
import type { ImageRecord, ImageStore } from "./image_store.ts";
import {
  type Descriptor,
  hostPlatform,
  MAX_CONFIG_BYTES,
  parseConfig,
  parseManifest,
  selectPlatform,
} from "./manifest.ts";
import { formatRef, type ImageRef, repoName } from "./reference.ts";
import type { Endpoint, RegistryClient } from "./registry_client.ts";
import type { PullSource } from "./resolve.ts";

/** What a pull reports to the metrics. */
export interface PullObserver {
  pullBytes(mediaType: string, n: number): void;
  layerReused(): void;
}

export interface PullDeps {
  client: RegistryClient;
  layers: LayerStore;
  store: ImageStore;
  log: Logger;
  observer?: PullObserver;
}

export interface PullJob {
  /** The name recorded as a tag or repo digest. */
  name: ImageRef;
  sources: PullSource[];
  creds?: Credentials;
  authFile: AuthFile;
  signal: AbortSignal;
  progressTimeoutMs: number;
  /**
   * The signature policy check, run on the top-level manifest digest before any blob is fetched;
   * throws SignatureValidationError to refuse the image.
   */
  verify?: (a: { name: ImageRef; digest: Digest; src: Source }) => Promise<void>;
}

/** Aborts the pull when nothing arrives for timeoutMs; touch() on every bit of progress. */
class Watchdog {
  readonly controller = new AbortController();
  #timer?: ReturnType<typeof setTimeout>;
  constructor(private readonly ms: number, private readonly what: string) {
    this.touch();
  }
  touch(): void {
    if (this.ms <= 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.controller.abort(
        new DeadlineExceededError(
          `pull of ${this.what} made no progress for ${this.ms / 1000}s (pull_progress_timeout)`,
        ),
      );
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.#timer);
  }
}

export interface Source {
  ep: Endpoint;
  repo: string;
  creds?: Credentials;
  signal: AbortSignal;
}

export async function pull(deps: PullDeps, job: PullJob): Promise<ImageRecord> {
  const what = formatRef(job.name);
  const dog = new Watchdog(job.progressTimeoutMs, what);
  const signal = AbortSignal.any([job.signal, dog.controller.signal]);
  const errors: string[] = [];
  const kinds = new Set<string>();
  try {
    for (const s of job.sources) {
      const src: Source = {
        ep: { host: s.ref.domain, insecure: s.insecure },
        repo: s.ref.path,
        creds: job.creds ?? lookupAuth(job.authFile, repoName(s.ref)),
        signal,
      };
      try {
        if (s.mirror) {
          deps.log.info("pulling from mirror", { image: what, mirror: formatRef(s.ref) });
        }
        return await pullFrom(deps, { job, src, ref: s.ref, touch: () => dog.touch() });
      } catch (err) {
        if (signal.aborted) throw abortError(signal, what);
        // A bad image is bad everywhere; only unreachable or missing sources fall through.
        if (err instanceof InvalidArgumentError || err instanceof ResourceExhaustedError) {
          throw withContext(err, `pulling ${what}`);
        }
        // A policy refusal is final: another mirror must not be asked for the same image.
        if (err instanceof SignatureValidationError) throw err;
        kinds.add(err instanceof CriError ? err.kind : "Unavailable");
        errors.push(`${formatRef(s.ref)}: ${errorMessage(err)}`);
        deps.log.debug("pull source failed", { image: what, error: errorMessage(err) });
      }
    }
  } finally {
    dog.stop();
  }
  const msg = `pulling ${what} failed: ${errors.join("; ")}`;
  if (kinds.size === 1 && kinds.has("Unauthenticated")) throw new UnauthenticatedError(msg);
  throw errors.length && errors.every((e) => e.includes("not found"))
    ? new NotFoundError(msg)
    : new CriError("Unavailable", msg);
}

/** The same error (class and kind) with where it happened in front of its message. */
function withContext(err: CriError, where: string): CriError {
  const Kind = err.constructor as new (message: string, options?: ErrorOptions) => CriError;
  return new Kind(`${where}: ${err.message}`, { cause: err });
}

function abortError(signal: AbortSignal, what: string): Error {
  const r = signal.reason;
  if (r instanceof DeadlineExceededError) return r;
  return new DeadlineExceededError(`pull of ${what} cancelled: ${errorMessage(r)}`);
}

async function fetchManifest(deps: PullDeps, src: Source, reference: string, expect?: Digest) {
  const m = await deps.client.manifest(src.ep, reference, src);
  const digest = digestOf(m.bytes);
  if (expect && digest !== expect) {
    throw new InvalidArgumentError(`manifest digest mismatch: asked for ${expect}, got ${digest}`);
  }
  return { ...m, digest, manifest: parseManifest(m.bytes, m.contentType) };
}

interface PullFromArgs {
  job: PullJob;
  src: Source;
  ref: ImageRef;
  touch: () => void;
}

async function pullFrom(deps: PullDeps, a: PullFromArgs): Promise<ImageRecord> {
  const { src, ref } = a;
  const top = await fetchManifest(deps, src, ref.digest ?? ref.tag ?? "latest", ref.digest);
  a.touch();
  await a.job.verify?.({ name: a.job.name, digest: top.digest, src });
  let inst = top;
  if (top.manifest.kind === "index") {
    const pick = selectPlatform(top.manifest.manifests, hostPlatform());
    inst = await fetchManifest(deps, src, pick.digest, pick.digest);
    if (inst.manifest.kind !== "image") throw new InvalidArgumentError("nested manifest list");
  }
  const m = inst.manifest as Extract<typeof inst.manifest, { kind: "image" }>;
  if (m.config.size > MAX_CONFIG_BYTES) {
    throw new InvalidArgumentError(
      `image config ${m.config.digest} is ${m.config.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`,
    );
  }
  const configBytes = await deps.client.blobBytes(src.ep, m.config.digest, {
    ...src,
    max: Math.min(MAX_CONFIG_BYTES, m.config.size),
  });
  if (digestOf(configBytes) !== m.config.digest) {
    throw new InvalidArgumentError(`config digest mismatch for ${m.config.digest}`);
  }
  const config = parseConfig(configBytes, m.layers.length);
  const chains = chainIds(config.diffIds);
  const layers = await allLayers(src, (s) =>
    m.layers.map((l, i) =>
      ensureLayer(deps, {
        src: s,
        desc: l,
        diffId: config.diffIds[i],
        chainId: chains[i],
        touch: a.touch,
      })
    ));
  const id = digestHex(m.config.digest);
  const size = configBytes.length + layers.reduce((n, l) => n + l, 0);
  return await record(deps.store, {
    id,
    name: a.job.name,
    digests: [...new Set([top.digest, inst.digest])],
    manifestDigest: inst.digest,
    layers: m.layers.map((l, i) => ({
      chainId: chains[i],
      diffId: config.diffIds[i],
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
    })),
    size,
    user: config.user,
    topDigest: top.digest,
    blobs: { manifest: inst.bytes, config: configBytes },
  });
}

/**
 * Runs the layer fetches; the first failure cancels the others and is thrown only once all have
 * settled, so a failed pull leaves no extraction running (and no temporary data) behind it.
 */
async function allLayers(
  src: Source,
  start: (s: Source) => Promise<number>[],
): Promise<number[]> {
  const cancel = new AbortController();
  let first: { err: unknown } | undefined;
  const runs = start({ ...src, signal: AbortSignal.any([src.signal, cancel.signal]) }).map((p) =>
    p.catch((err) => {
      first ??= { err };
      cancel.abort(err);
      throw err;
    })
  );
  const settled = await Promise.allSettled(runs);
  if (first) throw first.err;
  return settled.map((r) => (r as PromiseFulfilledResult<number>).value);
}

interface EnsureArgs {
  src: Source;
  desc: Descriptor;
  diffId: Digest;
  chainId: Digest;
  touch: () => void;
}

/** Returns the layer's uncompressed size. */
async function ensureLayer(deps: PullDeps, a: EnsureArgs): Promise<number> {
  const { record, reused } = await deps.layers.ensure({
    chainId: a.chainId,
    blob: {
      digest: a.desc.digest,
      size: a.desc.size,
      mediaType: a.desc.mediaType,
      diffId: a.diffId,
    },
    open: () => deps.client.openBlob(a.src.ep, a.desc.digest, a.src),
    onBytes: (n) => {
      a.touch();
      deps.observer?.pullBytes(a.desc.mediaType, n);
    },
  }).catch((err) => {
    if (err instanceof InvalidArgumentError || err instanceof ResourceExhaustedError) {
      throw withContext(err, `layer ${a.desc.digest}`);
    }
    throw err;
  });
  if (reused) deps.observer?.layerReused();
  return record.tarBytes;
}

interface RecordArgs
  extends Omit<ImageRecord, "version" | "repoTags" | "repoDigests" | "pulledAt"> {
  name: ImageRef;
  topDigest: Digest;
  blobs: { manifest: Uint8Array; config: Uint8Array };
}

/** Adds the name to the image (moving a tag off any other image) and writes the record. */
function record(store: ImageStore, a: RecordArgs): Promise<ImageRecord> {
  return store.serialize(async () => {
    const { name, topDigest, blobs, ...rest } = a;
    const tag = name.digest === undefined ? formatRef(name) : undefined;
    const repoDigest = `${repoName(name)}@${name.digest ?? topDigest}`;
    if (tag) {
      for (const other of store.all()) {
        if (other.id !== a.id && other.repoTags.includes(tag)) {
          await store.write({ ...other, repoTags: other.repoTags.filter((t) => t !== tag) });
        }
      }
    }
    const old = store.get(a.id);
    const rec: ImageRecord = {
      version: 1,
      ...rest,
      digests: [...new Set([...(old?.digests ?? []), ...a.digests])],
      repoTags: [...new Set([...(old?.repoTags ?? []), ...(tag ? [tag] : [])])],
      repoDigests: [...new Set([...(old?.repoDigests ?? []), repoDigest])],
      pulledAt: new Date().toISOString(),
    };
    await store.write(rec, old ? undefined : blobs);
    return rec;
  });
}
