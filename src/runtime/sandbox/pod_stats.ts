/**
 * Pod stats from the pod's cgroup (v1 hierarchies as on this node, or the v2 unified one) and
 * from /proc/net/dev read inside the pod's netns. A cgroup that does not exist yet (no container
 * started) yields no cpu/memory/process entry rather than an error.
 */
import type {
  LinuxPodSandboxStats,
  NetworkInterfaceUsage,
  PodSandboxStats,
} from "../../cri/gen/api.ts";
import type { HostRunner } from "../../util/host_runner.ts";
import type { Pod } from "./pod_state.ts";

export interface StatsSources {
  readFile: (path: string) => Promise<string>;
  runner: HostRunner;
  nsenter: string;
  /** /sys/fs/cgroup */
  cgroupRoot: string;
  /** "v1" when per-controller hierarchies are mounted, else "v2". */
  cgroupVersion: "v1" | "v2";
}

const u64 = (n: bigint | number) => ({ value: n.toString() });

async function readNum(src: StatsSources, path: string): Promise<bigint | undefined> {
  try {
    return BigInt((await src.readFile(path)).trim().split(/\s+/)[0]!);
  } catch {
    return undefined;
  }
}

async function readKv(src: StatsSources, path: string): Promise<Map<string, bigint>> {
  const m = new Map<string, bigint>();
  const text = await src.readFile(path).catch(() => "");
  for (const line of text.split("\n")) {
    const [k, v] = line.split(/\s+/);
    if (k && v && /^\d+$/.test(v)) m.set(k, BigInt(v));
  }
  return m;
}

export function parseNetDev(text: string): NetworkInterfaceUsage[] {
  const out: NetworkInterfaceUsage[] = [];
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || name!.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/);
    out.push({
      name: name!.trim(),
      rxBytes: u64(BigInt(f[0]!)),
      rxErrors: u64(BigInt(f[2]!)),
      txBytes: u64(BigInt(f[8]!)),
      txErrors: u64(BigInt(f[10]!)),
    });
  }
  return out;
}

/** CPU, memory and pids of the cgroup at rel (below each hierarchy's root); containers use it too. */
export async function cgroupStats(rel: string, src: StatsSources, ts: string) {
  const v1 = (ctl: string, file: string) => `${src.cgroupRoot}/${ctl}${rel}/${file}`;
  const v2 = (file: string) => `${src.cgroupRoot}${rel}/${file}`;
  const s: LinuxPodSandboxStats = {};
  if (src.cgroupVersion === "v1") {
    const cpu = await readNum(src, v1("cpuacct", "cpuacct.usage"));
    const usage = await readNum(src, v1("memory", "memory.usage_in_bytes"));
    const stat = await readKv(src, v1("memory", "memory.stat"));
    const pids = await readNum(src, v1("pids", "pids.current"));
    if (cpu !== undefined) s.cpu = { timestamp: ts, usageCoreNanoSeconds: u64(cpu) };
    if (usage !== undefined) {
      const inactive = stat.get("total_inactive_file") ?? 0n;
      s.memory = {
        timestamp: ts,
        usageBytes: u64(usage),
        workingSetBytes: u64(usage > inactive ? usage - inactive : 0n),
        rssBytes: u64(stat.get("total_rss") ?? 0n),
        pageFaults: u64(stat.get("total_pgfault") ?? 0n),
        majorPageFaults: u64(stat.get("total_pgmajfault") ?? 0n),
      };
    }
    if (pids !== undefined) s.process = { timestamp: ts, processCount: u64(pids) };
    return s;
  }
  const cpu = await readKv(src, v2("cpu.stat"));
  const usage = await readNum(src, v2("memory.current"));
  const stat = await readKv(src, v2("memory.stat"));
  const pids = await readNum(src, v2("pids.current"));
  const usec = cpu.get("usage_usec");
  if (usec !== undefined) s.cpu = { timestamp: ts, usageCoreNanoSeconds: u64(usec * 1000n) };
  if (usage !== undefined) {
    const inactive = stat.get("inactive_file") ?? 0n;
    s.memory = {
      timestamp: ts,
      usageBytes: u64(usage),
      workingSetBytes: u64(usage > inactive ? usage - inactive : 0n),
      rssBytes: u64(stat.get("anon") ?? 0n),
      pageFaults: u64(stat.get("pgfault") ?? 0n),
      majorPageFaults: u64(stat.get("pgmajfault") ?? 0n),
    };
  }
  if (pids !== undefined) s.process = { timestamp: ts, processCount: u64(pids) };
  return s;
}

async function networkStats(pod: Pod, src: StatsSources, ts: string) {
  const netns = pod.meta.nsPaths.net;
  if (!netns || pod.status.state !== "ready") return undefined;
  const r = await src.runner.run(src.nsenter, { args: [`--net=${netns}`, "cat", "/proc/net/dev"] });
  if (r.code !== 0) return undefined;
  const interfaces = parseNetDev(r.stdout);
  const def = interfaces.find((i) => i.name === "eth0") ?? interfaces[0];
  return { timestamp: ts, ...(def ? { defaultInterface: def } : {}), interfaces };
}

export async function podStats(pod: Pod, src: StatsSources): Promise<PodSandboxStats> {
  const ts = (BigInt(Date.now()) * 1_000_000n).toString();
  const linux = await cgroupStats(pod.meta.cgroupPath, src, ts);
  const network = await networkStats(pod, src, ts);
  if (network) linux.network = network;
  linux.containers = [];
  const c = pod.meta.config;
  return {
    attributes: {
      id: pod.id,
      metadata: c.metadata ?? {},
      labels: c.labels ?? {},
      annotations: c.annotations ?? {},
    },
    linux,
  };
}
