/**
 * This daemon under test, started through bin/crio exactly as a node runs it (permissions worked
 * out from its configuration), isolated like the conformance harness: its own root, runroot,
 * socket, namespaces dir, CNI config dir and registries.conf, all in a temp dir. Logging at info
 * (debug logging is not what a node runs); CRIO_DENO_FLAGS adds --cpu-prof when asked.
 */
import { daemonConfig } from "../conformance/daemon.ts";
import { type Child, spawnChild, waitFor } from "../conformance/process.ts";
import { type BenchNetwork, conflist } from "./cni.ts";
import { listProcesses } from "./procfs.ts";
import type { OciRuntime } from "./target.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export interface CrioOptions {
  network: BenchNetwork;
  runtime: string;
  registriesConf: string;
  /** Where --cpu-prof writes the daemon's profile on exit; no profile when unset. */
  cpuProfDir?: string;
}

export interface Crio {
  readonly name: "crio-deno";
  readonly socket: string;
  readonly pid: number;
  readonly dir: string;
  readonly ociRuntime: OciRuntime;
  /** PIDs of this daemon's monitors (conmon), found by the temp dir in their arguments. */
  monitors(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startCrio(dir: string, o: CrioOptions): Promise<Crio> {
  await Deno.mkdir(`${dir}/cni/net.d`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/crio.conf`,
    daemonConfig(dir, {
      runtime: o.runtime,
      logLevel: "info",
      pluginDirs: ["/opt/cni/bin/"],
      writtenBy: "crio-deno's bench",
    }),
  );
  await Deno.writeTextFile(
    `${dir}/cni/net.d/10-${o.network.name}.conflist`,
    conflist(o.network, { ipamDir: `${dir}/ipam` }),
  );
  const socket = `${dir}/crio.sock`;
  const env: Record<string, string> = { CONTAINERS_REGISTRIES_CONF: o.registriesConf };
  if (o.cpuProfDir) env.CRIO_DENO_FLAGS = `--cpu-prof --cpu-prof-dir=${o.cpuProfDir}`;
  // bash execs deno, so the child's PID is the daemon's.
  const child: Child = spawnChild("bash", {
    args: [`${REPO}/bin/crio`, "--config", `${dir}/crio.conf`, "--config-dir", `${dir}/conf.d`],
    env,
    logFile: `${dir}/crio.log`,
  });
  await waitFor("crio-deno", async () => (await Deno.lstat(socket)).isSocket === true, {
    timeoutMs: 60_000,
    exited: child.status,
  });
  return {
    name: "crio-deno",
    socket,
    pid: child.pid,
    dir,
    // The handler's defaults (src/config/options.ts): the binary on PATH, state in /run/<name>.
    ociRuntime: {
      binary: o.runtime === "crun" ? "/usr/bin/crun" : "/usr/sbin/runc",
      root: `/run/${o.runtime}`,
    },
    async monitors() {
      return (await listProcesses())
        .filter((p) => /^\S*conmon\s/.test(p.args) && p.args.includes(`${dir}/`))
        .map((p) => p.pid);
    },
    stop: () => child.stop(30_000),
  };
}
