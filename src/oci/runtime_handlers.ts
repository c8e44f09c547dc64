/**
 * Resolves each configured runtime handler to its binary. A handler whose binary is missing is
 * dropped with a warning, unless it is the default one, which stops start-up (as CRI-O does).
 */
import { ConfigError } from "../errors.ts";
import type { RuntimeHandler } from "../config/options.ts";

export interface ResolvedHandler {
  readonly name: string;
  readonly path: string;
  readonly config: RuntimeHandler;
}

export interface ResolveResult {
  handlers: Map<string, ResolvedHandler>;
  warnings: string[];
}

export type IsExecutable = (path: string) => boolean;

export function hostIsExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Looks a binary up in $PATH the way execvp does; absolute names are taken as they are. */
export function lookPath(
  name: string,
  options: { path?: string; isExecutable?: IsExecutable } = {},
): string | undefined {
  const exe = options.isExecutable ?? hostIsExecutable;
  if (name.includes("/")) return exe(name) ? name : undefined;
  const dirs = (options.path ?? Deno.env.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin").split(":");
  for (const dir of [...dirs, "/usr/local/sbin", "/usr/sbin", "/sbin"]) {
    if (dir && exe(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return undefined;
}

export function resolveHandlers(
  runtimes: Record<string, RuntimeHandler>,
  options: { defaultRuntime: string; path?: string; isExecutable?: IsExecutable },
): ResolveResult {
  const handlers = new Map<string, ResolvedHandler>();
  const warnings: string[] = [];
  for (const [name, config] of Object.entries(runtimes)) {
    const wanted = config.runtime_path || name;
    const path = lookPath(wanted, options);
    if (path) {
      handlers.set(name, { name, path, config });
      continue;
    }
    const msg = `runtime handler ${JSON.stringify(name)}: binary ${JSON.stringify(wanted)} ` +
      `not found or not executable`;
    if (name === options.defaultRuntime) {
      throw new ConfigError(`${msg} (it is the default_runtime)`);
    }
    warnings.push(`${msg}; the handler is disabled`);
  }
  return { handlers, warnings };
}
