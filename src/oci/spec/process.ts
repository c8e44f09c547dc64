/**
 * The container process's command line, environment and working directory, merged from the image
 * config and the CRI ContainerConfig the way CRI-O (and Docker before it) merge them.
 */
import { InvalidArgumentError } from "../../errors.ts";
import type { KeyValue } from "../../cri/gen/api.ts";
import type { ImageConfig } from "./types.ts";

/** What runc/crun fall back to anyway; written out so `env` in the container shows it. */
export const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * CRI command replaces the image Entrypoint, CRI args replace the image Cmd; a CRI command
 * without args drops the image Cmd too (Kubernetes semantics).
 */
export function resolveArgs(
  image: ImageConfig,
  cri: { command?: string[]; args?: string[] },
): string[] {
  let command = cri.command ?? [];
  let args = cri.args ?? [];
  if (command.length === 0) {
    if (args.length === 0) args = image.Cmd ?? [];
    command = image.Entrypoint ?? [];
  }
  const argv = [...command, ...args];
  if (argv.length === 0 || argv[0] === "") {
    throw new InvalidArgumentError(
      "no command specified: neither the image nor the config has one",
    );
  }
  return argv;
}

const decoder = new TextDecoder();

function keyOf(entry: string): string {
  const i = entry.indexOf("=");
  return i < 0 ? entry : entry.slice(0, i);
}

function checkEntry(key: string, value: string, source: string): void {
  if (key === "" || /[=\0\n\r]/.test(key)) {
    throw new InvalidArgumentError(
      `${source} environment variable name ${JSON.stringify(key)} is invalid`,
    );
  }
  // A newline in HOME used to inject /etc/passwd lines (CVE-2022-4318, CVE-2026-15809); the
  // issue refuses it in every value so no generated file can be split by one.
  if (/[\n\r]/.test(value)) {
    throw new InvalidArgumentError(`${source} environment variable ${key} contains a newline`);
  }
  if (value.includes("\0")) {
    throw new InvalidArgumentError(`${source} environment variable ${key} contains a NUL byte`);
  }
}

/**
 * Merges, later sources winning per name while keeping the first position: the defaults
 * (PATH, TERM for a tty, HOSTNAME), the daemon's default_env, the image Env, the CRI envs.
 */
export function mergeEnv(
  sources: {
    image: ImageConfig;
    defaultEnv: string[];
    cri?: KeyValue[];
    tty?: boolean;
    hostname?: string;
  },
): string[] {
  const env = new Map<string, string>();
  const set = (entry: string, source: string) => {
    const key = keyOf(entry);
    const value = entry.slice(key.length + 1);
    checkEntry(key, value, source);
    env.set(key, `${key}=${value}`);
  };
  set(DEFAULT_PATH, "default");
  if (sources.tty) set("TERM=xterm", "default");
  if (sources.hostname) set(`HOSTNAME=${sources.hostname}`, "pod");
  for (const e of sources.defaultEnv) set(e, "default_env");
  for (const e of sources.image.Env ?? []) if (e.includes("=")) set(e, "image");
  for (const kv of sources.cri ?? []) {
    if (!kv.key) continue;
    set(`${kv.key}=${decodeValue(kv.value)}`, "container");
  }
  return [...env.values()];
}

/** KeyValue.value is `bytes` in the pinned schema; callers and older schemas hand strings too. */
function decodeValue(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (v instanceof Uint8Array) return decoder.decode(v);
  return String(v);
}

export function resolveCwd(image: ImageConfig, criWorkingDir?: string): string {
  const cwd = criWorkingDir || image.WorkingDir || "/";
  if (!cwd.startsWith("/")) {
    throw new InvalidArgumentError(`working_dir ${JSON.stringify(cwd)} must be an absolute path`);
  }
  // runc resolves cwd inside the rootfs, but /proc/self/fd/N was how CVE-2024-21626 escaped.
  if (/^\/proc\/self\/fd(\/|$)|^\/proc\/\d+\/fd(\/|$)|^\/proc\/thread-self\/fd(\/|$)/.test(cwd)) {
    throw new InvalidArgumentError(`working_dir ${JSON.stringify(cwd)} is not allowed`);
  }
  return cwd;
}
