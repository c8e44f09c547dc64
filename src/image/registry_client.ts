/**
 * A client for the OCI distribution API (Docker Registry HTTP API v2) over fetch(): HTTPS with the
 * system CAs plus `certs.d/<host>/` (CA `*.crt`, client `*.cert` + `*.key`); plain HTTP only for
 * registries marked insecure; anonymous, Basic and Bearer auth (tokens cached per scope);
 * redirects followed by hand so Authorization never goes to another host; retries with backoff
 * on network errors, 429 and 5xx. Digests are validated by the caller before they get here.
 */
import { errorMessage, NotFoundError, UnauthenticatedError, UnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type Challenge, type Credentials, parseChallenge } from "./auth.ts";
import { type Digest, digestOf } from "./digest.ts";
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from "./manifest.ts";

export interface Endpoint {
  /** `host[:port]` as in the reference (docker.io is mapped to its API host). */
  host: string;
  insecure: boolean;
}

export interface CallOptions {
  repo: string;
  creds?: Credentials;
  signal?: AbortSignal;
}

export interface RegistryClientOptions {
  log: Logger;
  certsDir?: string;
  retries?: number;
  backoffMs?: number;
}

const MAX_REDIRECTS = 5;

function apiHost(host: string): string {
  return host === "docker.io" ? "registry-1.docker.io" : host;
}

/** Reads a body, refusing more than max bytes (manifests, configs, token answers). */
export async function readLimited(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > max) {
    await res.body?.cancel();
    throw new UnavailableError(`${what} is ${declared} bytes, more than the ${max}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of res.body ?? new ReadableStream()) {
    n += c.length;
    if (n > max) throw new UnavailableError(`${what} exceeds the ${max}-byte limit`);
    chunks.push(c);
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

export class RegistryClient {
  readonly #log: Logger;
  readonly #certsDir: string;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #schemes = new Map<string, Promise<string>>();
  readonly #clients = new Map<string, Promise<Deno.HttpClient | undefined>>();
  readonly #tokens = new Map<string, { header: string; expires: number }>();

  constructor(opts: RegistryClientOptions) {
    this.#log = opts.log;
    this.#certsDir = opts.certsDir ?? "/etc/containers/certs.d";
    this.#retries = opts.retries ?? 3;
    this.#backoffMs = opts.backoffMs ?? 250;
  }

  async manifest(ep: Endpoint, reference: string, o: CallOptions) {
    const res = await this.#get(ep, `manifests/${reference}`, { ...o, accept: MANIFEST_ACCEPT });
    const bytes = await readLimited(res, MAX_MANIFEST_BYTES, `manifest ${o.repo}:${reference}`);
    return { bytes, contentType: res.headers.get("content-type") ?? "" };
  }

  async blobBytes(ep: Endpoint, digest: Digest, o: CallOptions & { max: number }) {
    const res = await this.#get(ep, `blobs/${digest}`, o);
    return await readLimited(res, o.max, `blob ${digest}`);
  }

  async openBlob(
    ep: Endpoint,
    digest: Digest,
    o: CallOptions,
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#get(ep, `blobs/${digest}`, o);
    if (!res.body) throw new UnavailableError(`blob ${digest}: empty response`);
    return res.body;
  }

  async #get(ep: Endpoint, path: string, o: CallOptions & { accept?: string }): Promise<Response> {
    const host = apiHost(ep.host);
    const url = `${await this.#scheme(ep)}://${host}/v2/${o.repo}/${path}`;
    const scope = `repository:${o.repo}:pull`;
    const headers: Record<string, string> = {};
    if (o.accept) headers.accept = o.accept;
    const cached = this.#tokens.get(`${host}|${scope}|${credKey(o.creds)}`);
    if (cached && cached.expires > Date.now()) headers.authorization = cached.header;
    let res = await this.#send(url, { ...o, headers, host });
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get("www-authenticate"));
      await res.body?.cancel();
      const auth = await this.#authorize(challenge, { ...o, host, scope });
      if (auth) {
        headers.authorization = auth;
        res = await this.#send(url, { ...o, headers, host });
      }
    }
    if (res.ok) return res;
    await res.body?.cancel();
    const what = `${ep.host}/${o.repo} ${path}`;
    if (res.status === 404) throw new NotFoundError(`${what}: not found in the registry`);
    if (res.status === 401 || res.status === 403) {
      const given = o.creds ? "the credentials given were refused" : "no credentials were given";
      throw new UnauthenticatedError(
        `registry ${ep.host}: ${o.repo} ${path}: authentication required (HTTP ${res.status}); ` +
          `${given} (PullImageRequest.auth or global_auth_file)`,
      );
    }
    throw new UnavailableError(`${what}: HTTP ${res.status}`);
  }

  /** One request with redirects and retries; Authorization only to the registry's own host. */
  async #send(
    url: string,
    o: { headers: Record<string, string>; host: string; signal?: AbortSignal },
  ): Promise<Response> {
    for (let attempt = 0;; attempt++) {
      try {
        const res = await this.#follow(url, o);
        if ((res.status >= 500 || res.status === 429) && attempt < this.#retries) {
          await res.body?.cancel();
          await this.#sleep(attempt, o.signal, `HTTP ${res.status}`, url);
          continue;
        }
        return res;
      } catch (err) {
        const tls = err instanceof TypeError && tlsFailure(err);
        if (o.signal?.aborted || !(err instanceof TypeError) || tls || attempt >= this.#retries) {
          if (tls) throw tlsError(err, { url, certsDir: this.#certsDir });
          if (err instanceof TypeError) {
            throw new UnavailableError(`${url}: ${causes(err)}`, { cause: err });
          }
          throw err;
        }
        await this.#sleep(attempt, o.signal, errorMessage(err), url);
      }
    }
  }

  async #follow(
    start: string,
    o: { headers: Record<string, string>; host: string; signal?: AbortSignal },
  ): Promise<Response> {
    let url = new URL(start);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers = { ...o.headers };
      if (url.host !== o.host) delete headers.authorization;
      const client = await this.#client(url.host);
      const res = await fetch(url, {
        headers,
        redirect: "manual",
        signal: o.signal,
        ...(client ? { client } : {}),
      });
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || !location) return res;
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.protocol !== "https:" && next.protocol !== "http:") {
        throw new UnavailableError(`redirect to unsupported URL ${next.protocol}`);
      }
      url = next;
    }
    throw new UnavailableError(`${start}: more than ${MAX_REDIRECTS} redirects`);
  }

  async #sleep(attempt: number, signal: AbortSignal | undefined, why: string, url: string) {
    const ms = this.#backoffMs * 2 ** attempt;
    this.#log.debug("registry request failed; retrying", { url, error: why, retry_in_ms: ms });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(t);
        reject(signal.reason);
      }, { once: true });
    });
  }

  async #authorize(
    ch: Challenge | undefined,
    o: { host: string; scope: string; creds?: Credentials; signal?: AbortSignal },
  ): Promise<string | undefined> {
    const c = o.creds;
    if (!ch) return undefined;
    if (ch.scheme === "basic") {
      if (c?.username === undefined) return undefined;
      const header = `Basic ${btoa(`${c.username}:${c.password ?? ""}`)}`;
      // Remembered so later requests skip the 401 round trip.
      this.#tokens.set(`${o.host}|${o.scope}|${credKey(c)}`, { header, expires: Infinity });
      return header;
    }
    if (ch.scheme !== "bearer") return undefined;
    if (c?.registryToken) return `Bearer ${c.registryToken}`;
    const key = `${o.host}|${o.scope}|${credKey(c)}`;
    const token = await this.#token(ch, o);
    const header = `Bearer ${token.token}`;
    this.#tokens.set(key, { header, expires: Date.now() + (token.expiresIn - 10) * 1000 });
    return header;
  }

  async #token(
    ch: Challenge,
    o: { host: string; scope: string; creds?: Credentials; signal?: AbortSignal },
  ): Promise<{ token: string; expiresIn: number }> {
    const realm = new URL(ch.params.realm ?? "");
    const scope = ch.params.scope ?? o.scope;
    const c = o.creds;
    // Credentials only go to a realm over HTTPS, or to the registry's own host.
    const trusted = realm.protocol === "https:" || realm.host === o.host;
    const headers: Record<string, string> = {};
    let init: RequestInit;
    if (trusted && c?.identityToken) {
      const form = new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: c.identityToken,
        service: ch.params.service ?? "",
        scope,
        client_id: "crio-deno",
      });
      headers["content-type"] = "application/x-www-form-urlencoded";
      init = { method: "POST", body: form.toString() };
    } else {
      if (ch.params.service) realm.searchParams.set("service", ch.params.service);
      realm.searchParams.set("scope", scope);
      if (trusted && c?.username !== undefined) {
        headers.authorization = `Basic ${btoa(`${c.username}:${c.password ?? ""}`)}`;
      }
      init = { method: "GET" };
    }
    const client = await this.#client(realm.host);
    const res = await fetch(realm, {
      ...init,
      headers,
      signal: o.signal,
      ...(client ? { client } : {}),
    }).catch((err) => {
      if (!(err instanceof TypeError)) throw err;
      if (tlsFailure(err)) throw tlsError(err, { url: realm.href, certsDir: this.#certsDir });
      throw new UnavailableError(`token server ${realm.host}: ${errorMessage(err)}`);
    });
    if (!res.ok) {
      await res.body?.cancel();
      const msg = `token server ${realm.host} for registry ${o.host}: HTTP ${res.status}`;
      if (res.status === 401 || res.status === 403) {
        throw new UnauthenticatedError(
          `${msg}; ${c ? "the credentials given were refused" : "no credentials were given"}`,
        );
      }
      throw new UnavailableError(msg);
    }
    const body = JSON.parse(new TextDecoder().decode(await readLimited(res, 1 << 20, "token")));
    const token = body.token ?? body.access_token;
    if (typeof token !== "string") {
      throw new UnavailableError(`token server ${realm.host}: no token`);
    }
    return { token, expiresIn: Math.max(60, Number(body.expires_in) || 60) };
  }

  /** https unless the registry is insecure and does not speak TLS; remembered per host. */
  #scheme(ep: Endpoint): Promise<string> {
    if (!ep.insecure) return Promise.resolve("https");
    const host = apiHost(ep.host);
    let p = this.#schemes.get(host);
    if (!p) {
      p = (async () => {
        try {
          const client = await this.#client(host);
          const res = await fetch(`https://${host}/v2/`, {
            signal: AbortSignal.timeout(5000),
            ...(client ? { client } : {}),
          });
          await res.body?.cancel();
          return "https";
        } catch {
          this.#log.debug("insecure registry does not speak TLS; using http", { host });
          return "http";
        }
      })();
      this.#schemes.set(host, p);
    }
    return p;
  }

  /** An HTTP client with the host's certs.d CAs and client certificate, if it has any. */
  #client(host: string): Promise<Deno.HttpClient | undefined> {
    let p = this.#clients.get(host);
    if (!p) {
      p = loadCertsDir(`${this.#certsDir}/${host}`).then((tls) =>
        tls ? Deno.createHttpClient(tls) : undefined
      );
      this.#clients.set(host, p);
    }
    return p;
  }

  /** Forgets schemes, TLS clients and tokens (registries.conf or certs.d may have changed). */
  reset(): void {
    for (const p of this.#clients.values()) p.then((c) => c?.close()).catch(() => {});
    this.#clients.clear();
    this.#schemes.clear();
    this.#tokens.clear();
  }
}

/** Tokens are cached per credential: a wrong password must never reuse a right one's token. */
function credKey(c: Credentials | undefined): string {
  if (!c) return "anonymous";
  return digestOf(JSON.stringify([c.username, c.password, c.identityToken, c.registryToken]));
}

/** The messages of an error and its causes ("fetch failed" alone says nothing). */
function causes(err: unknown): string {
  const out: string[] = [];
  for (let e = err; e instanceof Error && out.length < 5; e = e.cause) out.push(e.message);
  return out.join(": ");
}

/** Certificate and handshake failures: retrying cannot help, the message must say why. */
function tlsFailure(err: Error): boolean {
  const text = causes(err);
  return /certificate|UnknownIssuer|tls|handshake|InvalidContentType|corrupt message/i.test(text);
}

function tlsError(err: Error, o: { url: string; certsDir: string }): UnavailableError {
  const host = new URL(o.url).host;
  return new UnavailableError(
    `TLS connection to registry ${host} failed: ${causes(err)}; its CA must be in ` +
      `${o.certsDir}/${host}/ca.crt or the system store, or a registry that serves plain HTTP ` +
      "must be marked insecure in registries.conf",
    { cause: err },
  );
}

type TlsOptions = Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem>;

async function loadCertsDir(dir: string): Promise<TlsOptions | undefined> {
  const caCerts: string[] = [];
  let cert: string | undefined, key: string | undefined;
  try {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.name.endsWith(".crt")) caCerts.push(await Deno.readTextFile(path));
      else if (e.name.endsWith(".cert")) cert = await Deno.readTextFile(path);
      else if (e.name.endsWith(".key")) key = await Deno.readTextFile(path);
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  if (!caCerts.length && !cert) return undefined;
  const out: TlsOptions = caCerts.length ? { caCerts } : {};
  if (cert && key) Object.assign(out, { cert, key });
  return out;
}
