/**
 * SIGHUP: re-read every configuration source and apply what can change without a restart. A bad
 * file is logged and the running configuration stays as it was; the daemon never exits on SIGHUP.
 */
import type { Config, OptionSpec, SectionName } from "../config/options.ts";
import { SECTION_PROPERTY, SECTIONS } from "../config/options.ts";
import type { LoadResult } from "../config/load.ts";
import { errorMessage } from "../errors.ts";
import type { Logger, LogLevel } from "../log.ts";

export interface ReloadOutcome {
  applied: string[];
  needRestart: string[];
}

/** Copies reloadable keys from next into current (in place), and lists what else differs. */
export function applyReloadable(current: Config, next: Config): ReloadOutcome {
  const applied: string[] = [];
  const needRestart: string[] = [];
  for (const table of Object.keys(SECTIONS) as SectionName[]) {
    const specs = SECTIONS[table] as Record<string, OptionSpec>;
    const cur = current[SECTION_PROPERTY[table]] as unknown as Record<string, unknown>;
    const nxt = next[SECTION_PROPERTY[table]] as unknown as Record<string, unknown>;
    for (const [key, spec] of Object.entries(specs)) {
      if (JSON.stringify(cur[key]) === JSON.stringify(nxt[key])) continue;
      if (spec.reloadable) {
        cur[key] = structuredClone(nxt[key]);
        applied.push(`${table}.${key}`);
      } else {
        needRestart.push(`${table}.${key}`);
      }
    }
  }
  if (JSON.stringify(current.runtime.runtimes) !== JSON.stringify(next.runtime.runtimes)) {
    needRestart.push("crio.runtime.runtimes");
  }
  return { applied, needRestart };
}

export async function reload(
  current: Config,
  options: { load: () => Promise<LoadResult>; log: Logger },
): Promise<ReloadOutcome | undefined> {
  const { log } = options;
  let next: LoadResult;
  try {
    next = await options.load();
  } catch (err) {
    log.error("configuration reload failed; keeping the running configuration", {
      error: errorMessage(err),
    });
    return undefined;
  }
  for (const w of next.warnings) log.warn(w);
  const outcome = applyReloadable(current, next.config);
  // Log level first, so that the lines below already follow it.
  log.configure({ level: current.runtime.log_level as LogLevel });
  for (const key of outcome.applied) log.info("configuration reloaded", { key });
  for (const key of outcome.needRestart) {
    log.warn("configuration changed but needs a restart to apply", { key });
  }
  return outcome;
}
