/**
 * crio: a CRI-O-compatible Kubernetes container runtime daemon.
 *
 *   crio [global flags]            run the daemon
 *   crio config [--default]        print the effective (or default) configuration as TOML
 *   crio version [--json]          print version information
 *   crio permissions               (internal) the Deno permission flags the daemon needs
 */
import { flagHelp, parseArgs } from "./src/config/flags.ts";
import { configCommand, permissionsCommand, print, versionCommand } from "./src/daemon/commands.ts";
import { configFromArgs } from "./src/daemon/context.ts";
import { serve } from "./src/daemon/serve.ts";
import { ConfigError, errorMessage } from "./src/errors.ts";
import { log } from "./src/log.ts";

const USAGE = `usage: crio [global flags] [command]

commands:
  (none)     run the CRI daemon
  config     print the effective configuration as TOML (--default: the embedded defaults)
  version    print version information (--json)

global flags:
${flagHelp()}
`;

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    print(USAGE);
    return 0;
  }
  const load = () => configFromArgs(args);
  switch (args.command) {
    case "":
      await serve(args, { log, load });
      return 0;
    case "config":
      await configCommand(args.commandArgs, load);
      return 0;
    case "version":
      versionCommand(args.commandArgs);
      return 0;
    case "permissions":
      await permissionsCommand(args, load);
      return 0;
    default:
      throw new ConfigError(`unknown command ${JSON.stringify(args.command)}; see crio --help`);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    log.error(err instanceof ConfigError ? "invalid configuration" : "fatal error", {
      error: errorMessage(err),
    });
    Deno.exit(1);
  }
}
