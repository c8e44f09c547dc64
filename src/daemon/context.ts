/** Loading the effective configuration from the command line, shared by every subcommand. */
import { type ParsedArgs } from "../config/flags.ts";
import { loadConfig, type LoadResult } from "../config/load.ts";

export function configFromArgs(args: ParsedArgs): Promise<LoadResult> {
  return loadConfig({
    configFile: args.configFile ?? Deno.env.get("CONTAINER_CONFIG"),
    configDir: args.configDir ?? Deno.env.get("CONTAINER_CONFIG_DIR"),
    overrides: args.overrides,
  });
}
