/**
 * containers-policy.json(5): which signatures an image needs before it is pulled. The file is
 * chosen per pull as CRI-O does: `<signature_policy_dir>/<pod namespace>.json` when it exists,
 * else `signature_policy`, else /etc/containers/policy.json. Requirements of the most specific
 * `transports.docker` scope (`host/repo:tag`, `host/repo`, its namespaces, `host`, `*.domain`,
 * then `""`) apply, else `default`; every requirement of the list must accept the image.
 */
import { ConfigError, errorMessage, InvalidArgumentError } from "../errors.ts";
import { formatRef, type ImageRef, repoName } from "./reference.ts";

export type SignedIdentity =
  | { type: "matchExact" }
  | { type: "matchRepoDigestOrExact" }
  | { type: "matchRepository" }
  | { type: "exactReference"; dockerReference: string }
  | { type: "exactRepository"; dockerRepository: string };

export type Requirement =
  | { type: "insecureAcceptAnything" }
  | { type: "reject" }
  | { type: "sigstoreSigned"; keys: string[]; signedIdentity: SignedIdentity };

export interface Policy {
  /** Where it was read from, for messages. */
  source: string;
  default: Requirement[];
  docker: Record<string, Requirement[]>;
}

export const SYSTEM_POLICY = "/etc/containers/policy.json";

/** A namespace names a file in signature_policy_dir, so it must be a plain DNS label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

type Obj = Record<string, unknown>;

function obj(v: unknown, where: string): Obj {
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new ConfigError(`${where}: must be an object`);
  }
  return v as Obj;
}

function str(o: Obj, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== "string" || v === "") throw new ConfigError(`${where}: ${key} must be a string`);
  return v;
}

function pemFromBase64(b64: string, where: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    throw new ConfigError(`${where}: keyData is not base64`);
  }
}

function signedIdentity(v: unknown, where: string): SignedIdentity {
  if (v === undefined) return { type: "matchRepoDigestOrExact" };
  const o = obj(v, `${where} signedIdentity`);
  const t = o.type;
  if (t === "matchExact" || t === "matchRepoDigestOrExact" || t === "matchRepository") {
    return { type: t };
  }
  if (t === "exactReference") {
    return { type: t, dockerReference: str(o, "dockerReference", `${where} signedIdentity`) };
  }
  if (t === "exactRepository") {
    return { type: t, dockerRepository: str(o, "dockerRepository", `${where} signedIdentity`) };
  }
  throw new ConfigError(`${where}: signedIdentity type ${JSON.stringify(t)} is not supported`);
}

async function requirement(v: unknown, where: string): Promise<Requirement> {
  const o = obj(v, where);
  if (o.type === "insecureAcceptAnything" || o.type === "reject") return { type: o.type };
  if (o.type !== "sigstoreSigned") {
    throw new ConfigError(`${where}: requirement type ${JSON.stringify(o.type)} is not supported`);
  }
  if (o.fulcio !== undefined || o.pki !== undefined) {
    throw new ConfigError(`${where}: sigstoreSigned with fulcio or pki is not supported`);
  }
  const keys: string[] = [];
  const paths = [o.keyPath, ...(Array.isArray(o.keyPaths) ? o.keyPaths : [])];
  const datas = [o.keyData, ...(Array.isArray(o.keyDatas) ? o.keyDatas : [])];
  for (const p of paths.filter((x) => x !== undefined)) {
    if (typeof p !== "string") throw new ConfigError(`${where}: keyPath must be a string`);
    try {
      keys.push(await Deno.readTextFile(p));
    } catch (err) {
      throw new ConfigError(`${where}: keyPath ${p}: ${errorMessage(err)}`);
    }
  }
  for (const d of datas.filter((x) => x !== undefined)) {
    if (typeof d !== "string") throw new ConfigError(`${where}: keyData must be a string`);
    keys.push(pemFromBase64(d, where));
  }
  if (keys.length === 0) throw new ConfigError(`${where}: sigstoreSigned needs keyPath or keyData`);
  return { type: "sigstoreSigned", keys, signedIdentity: signedIdentity(o.signedIdentity, where) };
}

async function requirements(v: unknown, where: string): Promise<Requirement[]> {
  if (!Array.isArray(v) || v.length === 0) {
    throw new ConfigError(`${where}: must be a non-empty list of requirements`);
  }
  return await Promise.all(v.map((r, i) => requirement(r, `${where}[${i}]`)));
}

/** Parses a policy document; key files are read now so a pull never sees a half-valid policy. */
export async function parsePolicy(text: string, source: string): Promise<Policy> {
  let doc: Obj;
  try {
    doc = obj(JSON.parse(text), source);
  } catch (err) {
    throw new ConfigError(`signature policy ${source}: ${errorMessage(err)}`);
  }
  const docker: Record<string, Requirement[]> = {};
  const transports = doc.transports === undefined
    ? {}
    : obj(doc.transports, `${source} transports`);
  for (const [scope, reqs] of Object.entries(obj(transports.docker ?? {}, `${source} docker`))) {
    docker[scope] = await requirements(
      reqs,
      `${source} transports.docker[${JSON.stringify(scope)}]`,
    );
  }
  return { source, default: await requirements(doc.default, `${source} default`), docker };
}

/** The scopes that may name ref, most specific first (containers/image docker transport). */
export function scopesFor(ref: ImageRef): string[] {
  const out = [formatRef(ref)];
  const parts = repoName(ref).split("/");
  for (let n = parts.length; n >= 1; n--) out.push(parts.slice(0, n).join("/"));
  const host = ref.domain.replace(/:\d+$/, "");
  const labels = host.split(".");
  for (let i = 1; i < labels.length; i++) out.push(`*.${labels.slice(i).join(".")}`);
  return out;
}

/** The requirements for ref and the scope they came from. */
export function requirementsFor(p: Policy, ref: ImageRef): { scope: string; reqs: Requirement[] } {
  for (const s of [...scopesFor(ref), ""]) {
    const reqs = p.docker[s];
    if (reqs) return { scope: s === "" ? 'transports.docker[""]' : s, reqs };
  }
  return { scope: "default", reqs: p.default };
}

export interface PolicyPaths {
  /** crio.image.signature_policy; empty means the system file. */
  path: string;
  /** crio.image.signature_policy_dir. */
  dir: string;
  /** The pod's namespace from the PullImage sandbox config, if any. */
  namespace?: string;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`signature policy ${path}: ${errorMessage(err)}`);
  }
}

/**
 * Loads the policy for one pull. A missing system file accepts anything (the node has no policy
 * at all); a configured file that is missing is an error.
 */
export async function loadPolicy(p: PolicyPaths): Promise<Policy> {
  if (p.namespace) {
    if (!NAMESPACE.test(p.namespace)) {
      throw new InvalidArgumentError(`sandbox namespace ${JSON.stringify(p.namespace)} is invalid`);
    }
    const file = `${p.dir}/${p.namespace}.json`;
    const text = await readIfExists(file);
    if (text !== undefined) return await parsePolicy(text, file);
  }
  const file = p.path || SYSTEM_POLICY;
  const text = await readIfExists(file);
  if (text !== undefined) return await parsePolicy(text, file);
  if (p.path) throw new ConfigError(`signature policy ${file} does not exist`);
  return { source: "none", default: [{ type: "insecureAcceptAnything" }], docker: {} };
}
