/**
 * Finds the CNI network the daemon would use and tells whether it is usable, as libcni and CRI-O's
 * ocicni do: files *.conf, *.conflist and *.json in network_dir in lexical order; the network named
 * by cni_default_network, else the first valid one; every plugin binary present in plugin_dirs.
 */
import { errorMessage } from "../errors.ts";

export interface CniPlugin {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface CniNetwork {
  readonly name: string;
  readonly cniVersion: string;
  readonly plugins: CniPlugin[];
  /** The file it came from. */
  readonly file: string;
  /** The conflist as CNI plugins receive it (a single .conf is wrapped into a list). */
  readonly raw: Record<string, unknown>;
}

export type NetworkReadiness =
  | { ready: true; network: CniNetwork }
  | { ready: false; reason: string; message: string };

export interface CniFs {
  readDir(path: string): Promise<string[]>;
  readFile(path: string): Promise<string>;
  isExecutable(path: string): Promise<boolean>;
}

export const hostCniFs: CniFs = {
  async readDir(path) {
    const names: string[] = [];
    for await (const e of Deno.readDir(path)) if (!e.isDirectory) names.push(e.name);
    return names;
  },
  readFile: (path) => Deno.readTextFile(path),
  async isExecutable(path) {
    try {
      const st = await Deno.stat(path);
      return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
    } catch {
      return false;
    }
  },
};

const CONFIG_FILE = /\.(conf|conflist|json)$/;
const PLUGIN_TYPE = /^[A-Za-z0-9_.-]+$/;

/** Parses one CNI config file; throws naming the file and what is wrong. */
export function parseCniConfig(file: string, text: string): CniNetwork {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${errorMessage(err)}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new Error(`${file}: expected a JSON object`);
  }
  const obj = doc as Record<string, unknown>;
  const isList = file.endsWith(".conflist") || Array.isArray(obj.plugins);
  const raw = isList ? obj : {
    name: obj.name,
    cniVersion: obj.cniVersion,
    plugins: [obj],
  };
  if (typeof raw.name !== "string" || raw.name === "") throw new Error(`${file}: missing "name"`);
  if (typeof raw.cniVersion !== "string") throw new Error(`${file}: missing "cniVersion"`);
  if (!Array.isArray(raw.plugins) || raw.plugins.length === 0) {
    throw new Error(`${file}: "plugins" must be a non-empty list`);
  }
  for (const [i, p] of (raw.plugins as unknown[]).entries()) {
    const type = (p as Record<string, unknown> | null)?.type;
    if (typeof type !== "string" || !PLUGIN_TYPE.test(type)) {
      throw new Error(`${file}: plugins[${i}].type must name a plugin binary`);
    }
  }
  return {
    name: raw.name,
    cniVersion: raw.cniVersion,
    plugins: raw.plugins as CniPlugin[],
    file,
    raw: raw as Record<string, unknown>,
  };
}

/** The first plugin dir that has the binary, or undefined. */
export async function findPlugin(
  fs: CniFs,
  pluginDirs: readonly string[],
  type: string,
): Promise<string | undefined> {
  for (const dir of pluginDirs) {
    const path = `${dir.replace(/\/$/, "")}/${type}`;
    if (await fs.isExecutable(path)) return path;
  }
  return undefined;
}

export async function readNetwork(
  fs: CniFs,
  options: { networkDir: string; pluginDirs: readonly string[]; defaultNetwork: string },
): Promise<NetworkReadiness> {
  const notReady = (message: string): NetworkReadiness => ({
    ready: false,
    reason: "NetworkPluginNotReady",
    message,
  });
  let names: string[];
  try {
    names = (await fs.readDir(options.networkDir)).filter((n) => CONFIG_FILE.test(n)).sort();
  } catch (err) {
    return notReady(`cannot read CNI config dir ${options.networkDir}: ${errorMessage(err)}`);
  }
  const problems: string[] = [];
  for (const name of names) {
    const file = `${options.networkDir.replace(/\/$/, "")}/${name}`;
    let net: CniNetwork;
    try {
      net = parseCniConfig(file, await fs.readFile(file));
    } catch (err) {
      problems.push(errorMessage(err));
      continue;
    }
    if (options.defaultNetwork && net.name !== options.defaultNetwork) continue;
    const missing = [];
    for (const p of net.plugins) {
      if (!(await findPlugin(fs, options.pluginDirs, p.type))) missing.push(p.type);
    }
    if (missing.length) {
      problems.push(`${file}: plugin ${missing.join(", ")} not found in ${options.pluginDirs}`);
      continue;
    }
    return { ready: true, network: net };
  }
  const wanted = options.defaultNetwork ? ` named ${JSON.stringify(options.defaultNetwork)}` : "";
  const detail = problems.length ? `: ${problems.join("; ")}` : "";
  return notReady(`no valid CNI network config${wanted} in ${options.networkDir}${detail}`);
}
