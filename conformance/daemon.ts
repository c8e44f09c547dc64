/**
 * Starts the daemon under test on an isolated root, socket, CNI dir and registries.conf, through
 * bin/crio exactly as a node would run it.
 */
import { type Child, spawnChild, waitFor } from "./process.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export interface DaemonUnderTest {
  readonly socket: string;
  readonly endpoint: string;
  readonly metricsPort: number;
  readonly child: Child;
  readonly logFile: string;
}

export const HARNESS_BRIDGE = "cni-crio-ct0";

/** A bridge network of the harness's own: its own bridge name, subnet and IPAM state dir. */
export function cniConflist(dir: string): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "crio-conformance",
      plugins: [
        {
          type: "bridge",
          bridge: HARNESS_BRIDGE,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: `${dir}/ipam`,
            routes: [{ dst: "0.0.0.0/0" }],
            ranges: [[{ subnet: "10.86.0.0/16" }]],
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** An isolated daemon's crio.conf: every path under dir. The bench uses it too. */
export function daemonConfig(
  dir: string,
  options: {
    runtime: string;
    /** Metrics on 127.0.0.1:port; off when absent. */
    metricsPort?: number;
    logLevel?: string;
    pluginDirs?: readonly string[];
    writtenBy?: string;
  },
): string {
  const pluginDirs = options.pluginDirs ?? ["/opt/cni/bin/", "/usr/lib/cni/"];
  const metrics = options.metricsPort === undefined
    ? "enable_metrics = false"
    : `enable_metrics = true\nmetrics_port = ${options.metricsPort}`;
  return `# Written by ${
    options.writtenBy ?? "the conformance harness"
  }: everything lives under ${dir}.
[crio]
root = "${dir}/root"
runroot = "${dir}/run"
log_dir = "${dir}/logs"
version_file = "${dir}/run/version"
clean_shutdown_file = "${dir}/clean.shutdown"

[crio.api]
listen = "${dir}/crio.sock"

[crio.runtime]
default_runtime = "${options.runtime}"
cgroup_manager = "cgroupfs"
container_exits_dir = "${dir}/exits"
container_attach_socket_dir = "${dir}/attach"
namespaces_dir = "${dir}/ns"
log_level = "${options.logLevel ?? "debug"}"

[crio.network]
network_dir = "${dir}/cni/net.d/"
plugin_dirs = ${JSON.stringify(pluginDirs).replaceAll(",", ", ")}

[crio.metrics]
${metrics}
`;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export async function startDaemon(
  dir: string,
  options: { runtime: string; k8s: string; registriesConf: string },
): Promise<DaemonUnderTest> {
  const metricsPort = freePort();
  await Deno.mkdir(`${dir}/crio.conf.d`, { recursive: true });
  await Deno.mkdir(`${dir}/cni/net.d`, { recursive: true });
  await Deno.writeTextFile(`${dir}/crio.conf`, daemonConfig(dir, { ...options, metricsPort }));
  await Deno.writeTextFile(`${dir}/cni/net.d/10-crio-conformance.conflist`, cniConflist(dir));
  const logFile = `${dir}/daemon.log`;
  const socket = `${dir}/crio.sock`;
  const child = spawnChild("bash", {
    args: [
      `${REPO}/bin/crio`,
      "--config",
      `${dir}/crio.conf`,
      "--config-dir",
      `${dir}/crio.conf.d`,
    ],
    env: {
      CRIO_K8S_MINOR: options.k8s,
      CONTAINERS_REGISTRIES_CONF: options.registriesConf,
    },
    logFile,
  });
  // The daemon creates the socket file only once it listens on it.
  await waitFor("crio daemon", async () => (await Deno.lstat(socket)).isSocket === true, {
    timeoutMs: 30_000,
    exited: child.status,
  });
  return { socket, endpoint: `unix://${socket}`, metricsPort, child, logFile };
}

/**
 * Stops and removes every pod left on the daemon (critest leaves one when a spec fails before it
 * registers its cleanup), so the pods' mounts and IPs go before the daemon and its dir. Returns
 * how many were left.
 */
export async function drainPods(endpoint: string, crictl: string): Promise<number> {
  const run = (args: string[]) =>
    new Deno.Command(crictl, { args: ["--runtime-endpoint", endpoint, ...args], stderr: "null" })
      .output();
  const out = await run(["pods", "-q"]);
  const ids = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  for (const id of ids) {
    await run(["stopp", id]);
    await run(["rmp", id]);
  }
  return ids.length;
}

/** Deletes the harness's bridge (the bridge plugin creates it on first ADD and never removes it). */
export async function removeBridge(): Promise<void> {
  await new Deno.Command("ip", { args: ["link", "del", HARNESS_BRIDGE], stderr: "null" }).output();
}
