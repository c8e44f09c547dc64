/**
 * Shared by the OCI integration tests (root): the container spec they run on a busybox rootfs,
 * the test process's fds, waiting, and the processes a test left behind.
 */
import { defaultConfig } from "../config/options.ts";
import {
  type ContainerConfig,
  NamespaceMode,
  SecurityProfile_ProfileType,
} from "../cri/gen/api.ts";
import { HELPER_BINARIES } from "../oci/host.ts";
import { OciRuntime } from "../oci/runtime.ts";
import { buildContainerSpec, type HostFacts } from "../oci/spec/build.ts";
import { minMemoryBytes } from "../oci/spec/resources.ts";
import { resolveHostInputs } from "../oci/spec_inputs.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export const RUNTIMES: Record<string, string> = { runc: "/usr/sbin/runc", crun: "/usr/bin/crun" };
export const CONMON = "/usr/bin/conmon";
export const isRoot = Deno.uid() === 0;
export const has = (p: string) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
};

export interface OciTestEnv {
  tmp: string;
  rootfs: string;
  runtime: OciRuntime;
  runtimeRoot: string;
  facts: HostFacts;
  name: string;
  /** Every container id the test made, recorded before its create, for the cleanup. */
  ids: string[];
}

/** The test's open fds, with their targets. `deno task unit` may not list /proc, so ls does. */
export async function fds(): Promise<string[]> {
  const out = await new Deno.Command("/usr/bin/ls", {
    args: ["-l", `/proc/${Deno.pid}/fd`],
    stdout: "piped",
  }).output();
  // ls's own pipe to us is open while it runs; it is counted the same way every time.
  return text(out.stdout).split("\n").filter((l) => l.includes("->")).map((l) =>
    l.slice(l.indexOf(":") + 4)
  );
}

export async function spec(
  env: OciTestEnv,
  id: string,
  command: string[],
  extra: { rootfs?: string; config?: Partial<ContainerConfig> } = {},
) {
  const config = defaultConfig();
  config.runtime.cgroup_manager = "cgroupfs";
  const ctr: ContainerConfig = {
    metadata: { name: "it" },
    command,
    linux: {
      securityContext: {
        namespaceOptions: { pid: NamespaceMode.CONTAINER },
        seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault },
      },
    },
    ...extra.config,
  };
  const host = await resolveHostInputs({ config: ctr, image: {}, rootfs: env.rootfs }, {
    config,
    privilegedWithoutHostDevices: false,
  });
  return buildContainerSpec({
    containerId: id,
    sandboxId: "none",
    config: { ...ctr, mounts: host.criMounts },
    sandboxConfig: { metadata: { name: "pod", namespace: "it", uid: "u" }, hostname: "it-host" },
    image: { config: {}, requested: "busybox", name: "busybox", ref: "sha256:0" },
    rootfs: extra.rootfs ?? env.rootfs,
    logPath: `${env.tmp}/logs/${id}.log`,
    user: host.user,
    devices: host.devices,
    seccompText: host.seccompText,
    pod: { cgroupParent: "/" },
  }, {
    config,
    handler: {
      name: env.name,
      allowedAnnotations: [],
      minMemory: minMemoryBytes("", env.name),
      privilegedWithoutHostDevices: false,
    },
    facts: env.facts,
  }).spec;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function readLog(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

/**
 * A sleep duration no other process on the host is likely to carry in its command line, for
 * processesWith(`sleep ${n}`): a fixed one such as "sleep 4" also matched whatever else was
 * sleeping on the machine (a shell's `sleep 400` failed a run).
 */
export function uniqueSleep(): string {
  return String(7_000_000 + Math.floor(Math.random() * 2_000_000));
}

/**
 * Live processes whose command line mentions `needle` (with their `ps` lines: pid, parent,
 * state, command), and conmon zombies.
 */
export async function processesWith(
  needle: string,
): Promise<{ live: number[]; liveLines: string[]; zombies: number[] }> {
  const ps = await new Deno.Command(HELPER_BINARIES.ps, {
    args: ["-e", "-o", "pid=,ppid=,stat=,args="],
    stdout: "piped",
  }).output();
  const live: number[] = [];
  const liveLines: string[] = [];
  const zombies: number[] = [];
  for (const line of text(ps.stdout).split("\n")) {
    const m = /^\s*(\d+)\s+\d+\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    if (m[2].startsWith("Z")) {
      if (m[3].includes("conmon")) zombies.push(Number(m[1]));
    } else if (m[3].includes(needle)) {
      live.push(Number(m[1]));
      liveLines.push(line.trim());
    }
  }
  return { live, liveLines, zombies };
}

/**
 * Waits until no live process mentions `needle`; a timeout names the ones left (pid, parent,
 * state, command), so a leak says what leaked.
 */
export async function waitGone(what: string, needle: string, ms: number): Promise<void> {
  let left: string[] = [];
  await waitFor(what, async () => {
    left = (await processesWith(needle)).liveLines;
    return left.length === 0 ? true : undefined;
  }, ms).catch((err) => {
    throw new Error(`${(err as Error).message}; still running: ${left.join(" | ")}`);
  });
}

/** A runtime of the test's own: root, exits and attach sockets under tmp. */
export function newEnv(
  name: string,
  tmp: string,
  o: { facts: HostFacts; rootfs: string },
): OciTestEnv {
  const runtimeRoot = `${tmp}/runtime-root`;
  return {
    tmp,
    name,
    facts: o.facts,
    runtimeRoot,
    rootfs: o.rootfs,
    ids: [],
    runtime: new OciRuntime({
      name,
      runtimePath: RUNTIMES[name],
      runtimeRoot,
      conmonPath: CONMON,
      conmonEnv: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
      exitsDir: `${tmp}/exits`,
      attachSocketDir: `${tmp}/attach`,
      cgroupManager: "cgroupfs",
      logSizeMax: -1,
      killTimeoutMs: 10_000,
    }),
  };
}

/** Whatever a failed assertion left running goes before the directory does. */
export async function cleanup(env: OciTestEnv | undefined, tmp: string) {
  for (const id of env?.ids ?? []) {
    const bundle = `${tmp}/bundles/${id}`;
    await env!.runtime.stop(id, { bundle, timeoutSeconds: 0 }).catch(() => {});
    await env!.runtime.delete(id).catch(() => {});
  }
  await Deno.remove(tmp, { recursive: true });
}
