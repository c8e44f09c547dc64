/**
 * containerd (Debian's package, CRI plugin built in) as the benchmark's peer: its own config
 * (version 2), root, state, sockets and CNI config dir in a temp dir; never /etc/containerd or
 * /var/lib/containerd. Started and stopped by PID; its shims are found by the socket they name.
 */
import { type Child, spawnChild, waitFor } from "../conformance/process.ts";
import { type BenchNetwork, conflist } from "./cni.ts";
import { listProcesses } from "./procfs.ts";
import type { OciRuntime } from "./target.ts";
import { exists } from "../src/util/exists.ts";

export interface ContainerdOptions {
  registryHost: string;
  mirroredHosts: readonly string[];
  sandboxImage: string;
  network: BenchNetwork;
  runc: string;
  crun: string;
  cniBinDir: string;
}

const q = (s: string) => JSON.stringify(s);

/** config.toml, version 2. */
export function containerdConfig(dir: string, o: ContainerdOptions): string {
  const cri = `plugins."io.containerd.grpc.v1.cri"`;
  const runtime = (name: string, binary: string) => [
    `[${cri}.containerd.runtimes.${name}]`,
    `runtime_type = "io.containerd.runc.v2"`,
    `[${cri}.containerd.runtimes.${name}.options]`,
    `BinaryName = ${q(binary)}`,
    // runc's state would default to /run/containerd/runc: keep it in the temp dir.
    `Root = ${q(`${dir}/runtime-root/${name}`)}`,
    `SystemdCgroup = false`,
  ];
  const mirrors = o.mirroredHosts.flatMap((h) => [
    `[${cri}.registry.mirrors.${q(h)}]`,
    `endpoint = [${q(`http://${o.registryHost}`)}]`,
  ]);
  return [
    `# Written by crio-deno's bench: everything lives under ${dir}.`,
    `version = 2`,
    `root = ${q(`${dir}/root`)}`,
    `state = ${q(`${dir}/state`)}`,
    `oom_score = 0`,
    `[grpc]`,
    `address = ${q(`${dir}/containerd.sock`)}`,
    `[ttrpc]`,
    `address = ${q(`${dir}/containerd.sock.ttrpc`)}`,
    `[debug]`,
    `level = "warn"`,
    `[metrics]`,
    `address = ""`,
    `[plugins."io.containerd.internal.v1.opt"]`,
    `path = ${q(`${dir}/opt`)}`,
    `[${cri}]`,
    `sandbox_image = ${q(o.sandboxImage)}`,
    `restrict_oom_score_adj = true`,
    `disable_apparmor = true`,
    `enable_selinux = false`,
    `stream_server_address = "127.0.0.1"`,
    `stream_server_port = "0"`,
    `[${cri}.containerd]`,
    `snapshotter = "overlayfs"`,
    `default_runtime_name = "runc"`,
    ...runtime("runc", o.runc),
    ...runtime("crun", o.crun),
    `[${cri}.cni]`,
    `bin_dir = ${q(o.cniBinDir)}`,
    `conf_dir = ${q(`${dir}/cni/net.d`)}`,
    `max_conf_num = 1`,
    ...mirrors,
    "",
  ].join("\n");
}

/** The `-address` a shim was started with. */
export function shimAddress(args: string): string | undefined {
  const words = args.split(/\s+/);
  const at = words.indexOf("-address");
  return at < 0 ? undefined : words[at + 1];
}

/** Where containerd 1.6 puts shim sockets, fixed at build time (not under `state`). */
const SHIM_SOCKET_ROOT = "/run/containerd";

export interface Containerd {
  readonly name: "containerd";
  readonly socket: string;
  readonly pid: number;
  readonly dir: string;
  readonly ociRuntime: OciRuntime;
  /** PIDs of the shims serving this containerd (found by the socket address they were given). */
  monitors(): Promise<number[]>;
  stop(): Promise<void>;
}

export async function startContainerd(dir: string, o: ContainerdOptions): Promise<Containerd> {
  await Deno.mkdir(`${dir}/cni/net.d`, { recursive: true });
  await Deno.writeTextFile(`${dir}/config.toml`, containerdConfig(dir, o));
  await Deno.writeTextFile(
    `${dir}/cni/net.d/10-${o.network.name}.conflist`,
    conflist(o.network, { ipamDir: `${dir}/ipam` }),
  );
  const socket = `${dir}/containerd.sock`;
  const hadRunDir = await exists(SHIM_SOCKET_ROOT);
  const child: Child = spawnChild("containerd", {
    args: ["--config", `${dir}/config.toml`],
    logFile: `${dir}/containerd.log`,
  });
  await waitFor("containerd", async () => (await Deno.lstat(socket)).isSocket === true, {
    timeoutMs: 30_000,
    exited: child.status,
  });
  const monitors = async () =>
    (await listProcesses())
      .filter((p) => /containerd-shim/.test(p.args) && shimAddress(p.args) === socket)
      .map((p) => p.pid);
  return {
    name: "containerd",
    socket,
    pid: child.pid,
    dir,
    // The default runtime handler is runc; its shim adds the CRI namespace to the root.
    ociRuntime: { binary: o.runc, root: `${dir}/runtime-root/runc/k8s.io` },
    monitors,
    async stop() {
      await child.stop(15_000);
      // Shims outlive containerd by design; the bench removes its pods first, so any shim left
      // here is one of ours that lost its pod, stopped by its PID.
      for (const pid of await monitors()) {
        try {
          Deno.kill(pid, "SIGTERM");
        } catch { /* gone meanwhile */ }
      }
      // containerd 1.6 puts shim sockets under /run/containerd/s whatever its state dir is;
      // when that dir is ours (it did not exist before), remove it once empty.
      if (!hadRunDir) {
        for (const d of [`${SHIM_SOCKET_ROOT}/s`, SHIM_SOCKET_ROOT]) {
          await Deno.remove(d).catch(() => {});
        }
      }
    },
  };
}
