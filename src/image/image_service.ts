/**
 * The image service behind PullImage, ImageStatus, ListImages and RemoveImage: names go through
 * registries.conf, pulls through the registry client into the layer store, and the image records
 * are the single source of truth for what exists. Concurrent pulls of the same name with the same
 * credentials share one download. Layers no image references are removed when no pull runs.
 */
import type { AuthConfig } from "../cri/gen/api.ts";
import type { Config } from "../config/options.ts";
import {
  DeadlineExceededError,
  errorKind,
  errorMessage,
  FailedPreconditionError,
  SignatureValidationError,
} from "../errors.ts";
import type { Logger } from "../log.ts";
import type { ImageConfig } from "../oci/spec/types.ts";
import { LayerStore } from "../storage/layer_store.ts";
import type { LayerLimits } from "../storage/layer_stream.ts";
import { type AuthFile, fromAuthConfig, loadAuthFile } from "./auth.ts";
import { type Digest, digestHex, digestOf } from "./digest.ts";
import { durationMs, localCandidates, matchesPinned } from "./image_names.ts";
import { type ImageRecord, ImageStore } from "./image_store.ts";
import { loadPolicy } from "./policy.ts";
import { pull, type PullObserver } from "./puller.ts";
import { formatRef, type ImageRef, parseLookup, parseReference, repoName } from "./reference.ts";
import {
  emptyRegistriesConf,
  loadRegistriesConf,
  type RegistriesConf,
  registriesConfPaths,
} from "./registries_conf.ts";
import { RegistryClient } from "./registry_client.ts";
import { candidates, pullSources } from "./resolve.ts";
import { checkPolicy } from "./sigstore.ts";
import { collectSoon } from "../util/memory.ts";

export interface ImageMetrics extends PullObserver {
  pullSucceeded(): void;
  pullFailed(error: string): void;
}

export interface ImageServiceOptions {
  root: string;
  log: Logger;
  /** The live configuration (SIGHUP replaces reloadable keys in place). */
  config: () => Config;
  metrics?: ImageMetrics;
  env?: (key: string) => string | undefined;
  certsDir?: string;
  /** Set by the container service: an image a container uses cannot be removed. */
  imageInUse?: (id: string) => boolean;
  /** Decompression caps (tests lower them); the layer store's defaults otherwise. */
  layerLimits?: LayerLimits;
}

export interface PullOptions {
  auth?: AuthConfig;
  signal: AbortSignal;
  /** The pod's namespace (PullImageRequest.sandbox_config): picks its signature policy file. */
  namespace?: string;
  /** An auth file used instead of global_auth_file (pause_image_auth_file). */
  authFile?: string;
}

interface SharedPull {
  promise: Promise<ImageRecord>;
  controller: AbortController;
  waiters: number;
}

export class ImageService {
  readonly store: ImageStore;
  readonly layers: LayerStore;
  readonly #o: ImageServiceOptions;
  readonly #client: RegistryClient;
  #conf: RegistriesConf = emptyRegistriesConf();
  #authFile: AuthFile = new Map();
  readonly #pulls = new Map<string, SharedPull>();
  #gcPending = false;

  constructor(o: ImageServiceOptions) {
    this.#o = o;
    this.store = new ImageStore(o.root);
    this.layers = new LayerStore({ root: o.root, log: o.log, limits: o.layerLimits });
    this.#client = new RegistryClient({ log: o.log, certsDir: o.certsDir });
  }

  /** Loads the store, drops what interrupted pulls left, reads registries.conf and auth. */
  async init(): Promise<void> {
    await this.layers.init();
    const { dropped } = await this.store.load();
    for (const id of dropped) this.#o.log.warn("removed an incomplete image", { id });
    for (const rec of this.store.all()) {
      const missing = [];
      for (const l of rec.layers) if (!(await this.layers.get(l.chainId))) missing.push(l.chainId);
      if (missing.length) {
        this.#o.log.warn("image has missing layers; removing it", { id: rec.id, missing });
        await this.store.delete(rec.id);
      }
    }
    await this.#collectLayers();
    await this.reload();
  }

  /** Re-reads registries.conf (and drop-ins) and the auth file; on error keeps the old ones. */
  async reload(): Promise<void> {
    const paths = registriesConfPaths(this.#o.env ?? ((k) => Deno.env.get(k)));
    try {
      this.#conf = await loadRegistriesConf(paths);
      this.#authFile = await loadAuthFile(this.#o.config().image.global_auth_file);
      this.#client.reset();
      this.#o.log.info("registries configuration loaded", {
        sources: this.#conf.sources.join(",") || "none",
        registries: this.#conf.registries.length,
      });
    } catch (err) {
      this.#o.log.error("registries configuration not reloaded", { error: errorMessage(err) });
    }
  }

  async pull(image: string, o: PullOptions): Promise<ImageRecord> {
    try {
      const rec = await this.#sharedPull(image, o);
      this.#o.metrics?.pullSucceeded();
      return rec;
    } catch (err) {
      this.#o.metrics?.pullFailed(errorKind(err));
      throw err;
    } finally {
      if (this.#pulls.size === 0) {
        if (this.#gcPending) await this.#collectLayers();
        // The pull's HTTP and gzip buffers wait for a full GC, then stay in glibc's heaps (and
        // in RSS) until something reuses them: ~80 MiB after the bench's large image.
        collectSoon();
      }
    }
  }

  #sharedPull(image: string, o: PullOptions) {
    const ref = parseReference(image);
    const cfg = this.#o.config();
    const names = candidates(ref, { conf: this.#conf, shortNameMode: cfg.image.short_name_mode });
    const creds = fromAuthConfig(o.auth);
    const ns = o.namespace ?? "";
    const auth = digestOf(JSON.stringify([creds ?? {}, o.authFile ?? ""]));
    const key = `${names.map(formatRef).join(",")}|${ns}|${auth}`;
    let shared = this.#pulls.get(key);
    if (!shared) {
      const controller = new AbortController();
      const promise = this.#pullNames(names, {
        creds,
        signal: controller.signal,
        image,
        namespace: o.namespace,
        authFile: o.authFile,
      });
      shared = { promise, controller, waiters: 0 };
      this.#pulls.set(key, shared);
      promise.finally(() => this.#pulls.delete(key)).catch(() => {});
    }
    return this.#wait(shared, o.signal);
  }

  /** Waits for a shared pull; the pull itself is cancelled only when every waiter gave up. */
  async #wait(shared: SharedPull, signal: AbortSignal): Promise<ImageRecord> {
    shared.waiters++;
    const gaveUp = Promise.withResolvers<never>();
    const onAbort = () => {
      if (--shared.waiters === 0) shared.controller.abort(signal.reason);
      gaveUp.reject(signal.reason);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([shared.promise, gaveUp.promise]);
    } catch (err) {
      if (signal.aborted) {
        throw new DeadlineExceededError(`pull cancelled: ${errorMessage(signal.reason)}`);
      }
      throw err;
    } finally {
      signal.removeEventListener("abort", onAbort);
      if (!signal.aborted) shared.waiters--;
    }
  }

  async #pullNames(
    names: ImageRef[],
    o: {
      creds?: ReturnType<typeof fromAuthConfig>;
      signal: AbortSignal;
      image: string;
      namespace?: string;
      authFile?: string;
    },
  ): Promise<ImageRecord> {
    const cfg = this.#o.config();
    const authFile = o.authFile ? await loadAuthFile(o.authFile) : this.#authFile;
    const started = performance.now();
    const policy = await loadPolicy({
      path: cfg.image.signature_policy,
      dir: cfg.image.signature_policy_dir,
      namespace: o.namespace,
    });
    this.#o.log.debug("signature policy", { image: o.image, policy: policy.source });
    let last: unknown;
    for (const name of names) {
      try {
        const rec = await pull({
          client: this.#client,
          layers: this.layers,
          store: this.store,
          log: this.#o.log,
          observer: this.#o.metrics,
        }, {
          name,
          sources: pullSources(this.#conf, name),
          creds: o.creds,
          authFile,
          signal: o.signal,
          progressTimeoutMs: durationMs(cfg.image.pull_progress_timeout),
          verify: (v) => checkPolicy(this.#client, { policy, ...v }),
        });
        this.#o.log.info("image pulled", {
          image: formatRef(name),
          id: rec.id,
          ms: Math.round(performance.now() - started),
        });
        return rec;
      } catch (err) {
        last = err;
        if (o.signal.aborted || err instanceof SignatureValidationError) break;
      }
    }
    throw last;
  }

  /** The image a CRI ImageSpec string names: ID, `sha256:`ID, name[:tag] or name@digest. */
  find(image: string): ImageRecord | undefined {
    const l = parseLookup(image);
    if (l.kind === "id") return this.store.get(l.id);
    for (const r of localCandidates(l.ref, this.#conf.unqualifiedSearch)) {
      const hit = r.digest
        ? this.store.byDigest(repoName(r), r.digest)
        : this.store.byTag(formatRef(r));
      if (hit) return hit;
    }
    return undefined;
  }

  list(): ImageRecord[] {
    return this.store.all();
  }

  isPinned(rec: ImageRecord): boolean {
    const img = this.#o.config().image;
    const patterns = [...img.pinned_images, img.pause_image].filter((p) => p !== "");
    return rec.repoTags.some((t) => patterns.some((p) => matchesPinned(t, p)));
  }

  /** Removes a name, or the whole image when it is an ID or the image's last name. Idempotent. */
  async remove(image: string): Promise<void> {
    const l = parseLookup(image);
    await this.store.serialize(async () => {
      const rec = this.find(image);
      if (!rec) return;
      if (l.kind === "ref" && rec.repoTags.length + rec.repoDigests.length > 1) {
        const r = l.ref;
        const repo = repoName(r);
        const next = r.digest
          ? {
            ...rec,
            repoDigests: rec.repoDigests.filter((d) => d !== `${repo}@${r.digest}`),
            repoTags: rec.repoTags.filter((t) => !t.startsWith(`${repo}:`)),
          }
          : { ...rec, repoTags: rec.repoTags.filter((t) => t !== formatRef(r)) };
        if (next.repoTags.length || next.repoDigests.length) {
          if (!next.repoTags.some((t) => t.startsWith(`${repo}:`))) {
            next.repoDigests = next.repoDigests.filter((d) => !d.startsWith(`${repo}@`));
          }
          if (next.repoTags.length || next.repoDigests.length) return await this.store.write(next);
        }
      }
      if (this.#o.imageInUse?.(rec.id)) {
        throw new FailedPreconditionError(`image ${rec.id} is in use by a container`);
      }
      await this.store.delete(rec.id);
      this.#o.log.info("image removed", { id: rec.id, tags: rec.repoTags.join(",") });
    });
    if (this.#pulls.size === 0) await this.#collectLayers();
    else this.#gcPending = true;
  }

  /** ImageStatus verbose info: what CRI-O shows, from the stored manifest and config. */
  async verboseInfo(rec: ImageRecord): Promise<Record<string, unknown>> {
    const read = async (name: "manifest.json" | "config.json") => {
      try {
        return JSON.parse(await Deno.readTextFile(this.store.blobPath(rec.id, name)));
      } catch {
        return undefined;
      }
    };
    const config = await read("config.json");
    return {
      id: rec.id,
      repoTags: rec.repoTags,
      repoDigests: rec.repoDigests,
      size: rec.size,
      user: rec.user,
      pinned: this.isPinned(rec),
      manifestDigest: rec.manifestDigest,
      manifest: await read("manifest.json"),
      imageSpec: config,
      labels: config?.config?.Labels ?? {},
    };
  }

  /** The `config` object of the image's config blob; {} when it cannot be read. */
  async imageConfig(rec: ImageRecord): Promise<ImageConfig> {
    try {
      const text = await Deno.readTextFile(this.store.blobPath(rec.id, "config.json"));
      return (JSON.parse(text)?.config ?? {}) as ImageConfig;
    } catch {
      return {};
    }
  }

  /** Overlay lowerdirs of an image, top layer first (for the container service). */
  layerDirs(rec: ImageRecord): string[] {
    return rec.layers.map((l) => this.layers.diffDir(l.chainId)).reverse();
  }

  /** Removes every layer that no image references. */
  async #collectLayers(): Promise<void> {
    this.#gcPending = false;
    const used = new Set<string>();
    for (const rec of this.store.all()) for (const l of rec.layers) used.add(digestHex(l.chainId));
    for (const hex of await this.layers.list()) {
      if (used.has(hex)) continue;
      await this.layers.remove(`sha256:${hex}` as Digest).catch((err) =>
        this.#o.log.warn("could not remove an unused layer", {
          layer: hex,
          error: errorMessage(err),
        })
      );
    }
  }
}
