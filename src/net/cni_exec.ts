/**
 * Runs one CNI plugin as the CNI spec says: the network config on stdin, the call in CNI_*
 * variables, the result (or a structured error) on stdout.
 */
import { InternalError } from "../errors.ts";
import type { HostRunner } from "../util/host_runner.ts";

export type CniCommand = "ADD" | "DEL";

export interface CniCall {
  command: CniCommand;
  containerId: string;
  /** Path of the netns; empty when it is already gone (DEL must still release IPAM). */
  netns: string;
  ifName: string;
  /** K8S_POD_* and friends, joined into CNI_ARGS. */
  args: readonly (readonly [string, string])[];
  /** plugin_dirs, for CNI_PATH (delegating plugins such as bridge → host-local). */
  pluginDirs: readonly string[];
}

/** A plugin failed; carries the CNI error code and message when the plugin gave them. */
export class CniPluginError extends InternalError {
  readonly code?: number;
  constructor(message: string, code?: number) {
    super(message);
    this.code = code;
  }
}

export function cniEnv(call: CniCall): Record<string, string> {
  return {
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId,
    CNI_NETNS: call.netns,
    CNI_IFNAME: call.ifName,
    CNI_ARGS: ["IgnoreUnknown=1", ...call.args.map(([k, v]) => `${k}=${v}`)].join(";"),
    CNI_PATH: call.pluginDirs.map((d) => d.replace(/\/$/, "")).join(":"),
  };
}

/**
 * Executes the plugin binary at path with config; returns its parsed stdout (empty object for
 * DEL, which prints nothing). Throws CniPluginError naming plugin, network and command.
 */
export async function execPlugin(
  runner: HostRunner,
  path: string,
  options: { call: CniCall; config: Record<string, unknown> },
): Promise<Record<string, unknown>> {
  const { call, config } = options;
  const what = `CNI plugin ${config.type} (network ${JSON.stringify(config.name)}) ${call.command}`;
  const r = await runner.run(path, { env: cniEnv(call), stdin: JSON.stringify(config) });
  let out: Record<string, unknown> = {};
  if (r.stdout.trim()) {
    try {
      out = JSON.parse(r.stdout);
    } catch {
      if (r.code === 0) throw new CniPluginError(`${what}: output is not JSON: ${r.stdout}`);
    }
  }
  if (r.code !== 0) {
    const code = typeof out.code === "number" ? out.code : undefined;
    const msg = [out.msg, out.details].filter((x) => typeof x === "string" && x).join(": ") ||
      (r.stderr || r.stdout).trim();
    throw new CniPluginError(`${what} failed${code ? ` (code ${code})` : ""}: ${msg}`, code);
  }
  return out;
}

/** The pod IPs in a result (CNI 0.3+ "ips", or 0.2 "ip4"/"ip6"), IPv4 first. */
export function resultIps(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  const ips: string[] = [];
  if (Array.isArray(result.ips)) {
    for (const e of result.ips as { address?: unknown }[]) {
      if (typeof e?.address === "string") ips.push(e.address.split("/")[0]!);
    }
  }
  for (const k of ["ip4", "ip6"]) {
    const ip = (result[k] as { ip?: unknown } | undefined)?.ip;
    if (typeof ip === "string") ips.push(ip.split("/")[0]!);
  }
  const v4 = ips.filter((ip) => !ip.includes(":"));
  return [...v4, ...ips.filter((ip) => ip.includes(":"))];
}
