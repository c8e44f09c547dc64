/**
 * The CNI plugins' own share of a pod lifecycle, measured directly: the bench runs the same
 * chain both runtimes run (loopback, then bridge + host-local + portmap; DEL in reverse) in a
 * network namespace of its own, on a bridge of its own, and reads its own reaped-children CPU
 * from /proc. This splits the daemons' "helpers" CPU into CNI plugins and the rest.
 */
import { type BenchNetwork, conflist, removeBridge } from "../cni.ts";
import { readStats } from "../procfs.ts";
import { timed } from "../target.ts";
import type { WorkloadContext, WorkloadResult } from "./common.ts";
import { row } from "./common.ts";

const NET: BenchNetwork = {
  name: "bench-cni-cost",
  bridge: "cni-bench-cal",
  subnet: "10.93.0.0/16",
};
const PLUGIN_DIR = "/opt/cni/bin";

interface Call {
  command: "ADD" | "DEL";
  netns: string;
  ifName: string;
  config: Record<string, unknown>;
}

async function plugin(call: Call): Promise<Record<string, unknown>> {
  const child = new Deno.Command(`${PLUGIN_DIR}/${call.config.type}`, {
    env: {
      CNI_COMMAND: call.command,
      CNI_CONTAINERID: "bench-cni-cost",
      CNI_NETNS: call.netns,
      CNI_IFNAME: call.ifName,
      CNI_PATH: PLUGIN_DIR,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(call.config)));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`CNI ${call.config.type} ${call.command}: ${text}`);
  return text.trim() ? JSON.parse(text) : {};
}

async function addDel(
  o: {
    netns: string;
    list: { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  },
) {
  const base = { cniVersion: o.list.cniVersion, name: o.list.name };
  const lo = { cniVersion: "1.0.0", name: "cni-loopback", type: "loopback" };
  await plugin({ command: "ADD", netns: o.netns, ifName: "lo", config: lo });
  let prev: Record<string, unknown> | undefined;
  for (const p of o.list.plugins) {
    prev = await plugin({
      command: "ADD",
      netns: o.netns,
      ifName: "eth0",
      config: { ...base, ...p, prevResult: prev },
    });
  }
  for (const p of [...o.list.plugins].reverse()) {
    await plugin({
      command: "DEL",
      netns: o.netns,
      ifName: "eth0",
      config: { ...base, ...p, prevResult: prev },
    });
  }
  await plugin({ command: "DEL", netns: o.netns, ifName: "lo", config: lo });
}

async function reapedCpu(): Promise<number> {
  const s = (await readStats([Deno.pid])).get(Deno.pid)!;
  return s.childUser + s.childSystem;
}

async function ip(args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

export async function cniCost(ctx: WorkloadContext): Promise<WorkloadResult> {
  const ns = `bench-cni-${Deno.pid}`;
  const list = JSON.parse(conflist(NET, { ipamDir: `${ctx.scratch}/cni-cost-ipam` }));
  await ip(["netns", "add", ns]);
  const wall: number[] = [];
  const cpu: number[] = [];
  try {
    for (let i = 0; i < ctx.iterations; i++) {
      const before = await reapedCpu();
      const [ms] = await timed(() => addDel({ netns: `/run/netns/${ns}`, list }));
      wall.push(ms);
      cpu.push(((await reapedCpu()) - before) * 1000);
    }
  } finally {
    await ip(["netns", "del", ns]).catch(() => {});
    await removeBridge(NET);
  }
  const both = (v: number[]) => Object.fromEntries(ctx.targets.map((t) => [t.name, v]));
  return {
    rows: [
      row(
        { workload: "f", metric: "CNI plugins per pod lifecycle (direct): wall", unit: "ms" },
        both(wall),
      ),
      row(
        { workload: "f", metric: "CNI plugins per pod lifecycle (direct): CPU", unit: "cpu-ms" },
        both(cpu),
      ),
    ],
    notes: [
      "f: the CNI rows are one measurement shown for both runtimes (they run the same plugins " +
      "with the same config): loopback + bridge/host-local + portmap ADD and DEL, run by the bench " +
      "in its own netns; subtract them from a runtime's helpers CPU to get its other helpers.",
    ],
  };
}
