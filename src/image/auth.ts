/**
 * Registry credentials: the CRI AuthConfig of the request first, then the global auth file
 * (containers-auth.json), as CRI-O orders them; and the parsing of WWW-Authenticate challenges.
 */
import type { AuthConfig } from "../cri/gen/api.ts";
import { ConfigError, errorMessage, InvalidArgumentError } from "../errors.ts";

export interface Credentials {
  username?: string;
  password?: string;
  /** OAuth2 refresh token, exchanged at the token realm. */
  identityToken?: string;
  /** A bearer token used as is. */
  registryToken?: string;
}

function decodeAuth(auth: string, what: string): { username: string; password: string } {
  let text: string;
  try {
    text = new TextDecoder().decode(Uint8Array.from(atob(auth), (c) => c.charCodeAt(0)));
  } catch {
    throw new InvalidArgumentError(`${what}: auth is not base64`);
  }
  const colon = text.indexOf(":");
  if (colon < 0) throw new InvalidArgumentError(`${what}: auth is not "user:password"`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Credentials from a PullImageRequest.auth, or undefined when it carries none. */
export function fromAuthConfig(a: AuthConfig | undefined): Credentials | undefined {
  if (!a) return undefined;
  const c: Credentials = {};
  if (a.auth) Object.assign(c, decodeAuth(a.auth, "PullImageRequest.auth"));
  if (a.username) c.username = a.username;
  if (a.password) c.password = a.password;
  if (a.identityToken) c.identityToken = a.identityToken;
  if (a.registryToken) c.registryToken = a.registryToken;
  return Object.keys(c).length ? c : undefined;
}

/** Auth file keys may be `host`, `host/ns/repo` or legacy URLs (`https://index.docker.io/v1/`). */
function normalizeKey(key: string): string {
  let k = key.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  if (k.endsWith("/v1") || k.endsWith("/v2")) k = k.slice(0, -3);
  if (k === "index.docker.io" || k === "registry-1.docker.io") k = "docker.io";
  return k;
}

export type AuthFile = Map<string, Credentials>;

export async function loadAuthFile(path: string): Promise<AuthFile> {
  const out: AuthFile = new Map();
  if (!path) return out;
  let doc: { auths?: Record<string, { auth?: string; identitytoken?: string }> };
  try {
    doc = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return out;
    throw new ConfigError(`auth file ${path}: ${errorMessage(err)}`);
  }
  for (const [key, v] of Object.entries(doc.auths ?? {})) {
    const c: Credentials = {};
    if (v.auth) Object.assign(c, decodeAuth(v.auth, `auth file ${path} entry ${key}`));
    if (v.identitytoken) c.identityToken = v.identitytoken;
    out.set(normalizeKey(key), c);
  }
  return out;
}

/** The most specific entry for `domain/path`: the repository, its namespaces, then the host. */
export function lookupAuth(file: AuthFile, name: string): Credentials | undefined {
  const parts = name.split("/");
  for (let n = parts.length; n >= 1; n--) {
    const hit = file.get(parts.slice(0, n).join("/"));
    if (hit) return hit;
  }
  return undefined;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const p of m[2].matchAll(re)) {
    params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: m[1].toLowerCase(), params };
}
