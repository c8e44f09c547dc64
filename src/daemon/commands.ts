/** The `crio` subcommands other than the daemon itself. */
import { defaultConfig } from "../config/options.ts";
import { renderConfig } from "../config/render.ts";
import type { LoadResult } from "../config/load.ts";
import { cacheDir, DEFAULT_MINOR, K8S_MINORS } from "../cri/k8s_versions.ts";
import { DEFAULT_CONFIG_DIR, DEFAULT_CONFIG_FILE } from "../config/load.ts";
import type { ParsedArgs } from "../config/flags.ts";
import { daemonPermissions } from "./permissions.ts";
import { daemonVersion, RUNTIME_NAME } from "../version.ts";

const encoder = new TextEncoder();
export function print(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n"));
}

export async function configCommand(
  commandArgs: string[],
  load: () => Promise<LoadResult>,
): Promise<void> {
  const cfg = commandArgs.includes("--default") ? defaultConfig() : (await load()).config;
  print(renderConfig(cfg));
}

export function versionCommand(commandArgs: string[]): void {
  const minor = Deno.env.get("CRIO_K8S_MINOR") ?? DEFAULT_MINOR;
  const pins = K8S_MINORS.find((m) => m.minor === minor);
  const info = {
    name: RUNTIME_NAME,
    version: daemonVersion(minor),
    kubernetesMinor: minor,
    criApi: pins?.criApi ?? "",
    supportedMinors: K8S_MINORS.map((m) => m.minor),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
  if (commandArgs.includes("--json") || commandArgs.includes("-j")) {
    print(JSON.stringify(info, null, 2));
    return;
  }
  const width = Math.max(...Object.keys(info).map((k) => k.length)) + 2;
  print(
    Object.entries(info).map(([k, v]) =>
      `${k}:`.padEnd(width) + (Array.isArray(v) ? v.join(", ") : v)
    ).join("\n"),
  );
}

/** Used by bin/crio: one Deno permission flag per line, scoped to the effective config. */
export async function permissionsCommand(
  args: ParsedArgs,
  load: () => Promise<LoadResult>,
): Promise<void> {
  const { config } = await load();
  const flags = daemonPermissions({
    config,
    configFile: args.configFile ?? Deno.env.get("CONTAINER_CONFIG") ?? DEFAULT_CONFIG_FILE,
    configDir: args.configDir ?? Deno.env.get("CONTAINER_CONFIG_DIR") ?? DEFAULT_CONFIG_DIR,
    cacheDir: cacheDir(),
    env: (k) => Deno.env.get(k),
  });
  print(flags.join("\n"));
}
