/**
 * deno task bench [WORKLOAD...]: this daemon side by side with containerd (issue 7; issue 3's
 * pull benchmark). Starts a local registry, this daemon (through bin/crio, with --cpu-prof) and
 * containerd, runs the workloads against both in the same invocation, tears everything down,
 * and writes bench/results/<time>/: table.md, results.json, profile.md and the raw profile.
 */
import { gzipSync } from "node:zlib";
import { cacheDir, DEFAULT_MINOR, k8sMinor } from "../src/cri/k8s_versions.ts";
import { type BenchArgs, parseBenchArgs, USAGE, type WorkloadName } from "./args.ts";
import { execSplitNote, listSplitNotes, splitNotes } from "./derive.ts";
import { describeMachine } from "./machine.ts";
import { newestProfile, profileMarkdown, summarizeProfile, type Window } from "./profile.ts";
import { uptimeSeconds } from "./procfs.ts";
import { resolveProfile } from "./source_map.ts";
import { type BenchResult, renderReport, type Row } from "./report.ts";
import { type Bench, withBench } from "./setup.ts";
import { burst } from "./workloads/burst.ts";
import { cniCost } from "./workloads/cni_cost.ts";
import type { WorkloadContext, WorkloadResult } from "./workloads/common.ts";
import { critest } from "./workloads/critest.ts";
import { pull } from "./workloads/pull.ts";
import { containerLifecycle, podLifecycle } from "./workloads/pod.ts";

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const encoder = new TextEncoder();
function say(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text + "\n"));
}

const WORKLOADS: Record<WorkloadName, (ctx: WorkloadContext) => Promise<WorkloadResult>> = {
  pull,
  critest,
  pod: podLifecycle,
  ctr: containerLifecycle,
  cni: cniCost,
  burst,
};

const STANDING_NOTES = [
  "Not like for like on purpose: a crio-deno pod is its pinned namespaces (no infra container, " +
  "no monitor), a containerd pod is a pause container run by runc under its own shim.",
  "Both daemons use the same CNI plugins and config shape (own bridge and subnet each), runc as " +
  "default runtime, cgroupfs, and pull from the same local registry through mirrors.",
];

interface Collected {
  rows: Row[];
  notes: string[];
  windows: Window[];
}

async function runWorkloads(
  args: BenchArgs,
  o: { bench: Bench; scratch: string; critest: string },
): Promise<Collected> {
  const out: Collected = { rows: [], notes: [], windows: [] };
  const ctx: WorkloadContext = {
    targets: o.bench.targets,
    images: o.bench.images,
    busybox: o.bench.images.find((i) => i.key === "busybox")!.ref,
    scratch: o.scratch,
    critest: o.critest,
    iterations: args.iterations,
    pods: args.pods,
    pullReps: args.pullReps,
    burstFirst: args.burstFirst,
    idleMem: o.bench.idleMem,
    profiledMem: o.bench.profiledMem,
    log: say,
  };
  for (const t of ctx.targets) {
    if (t.containerSkip) say(`${t.name}: container workloads skipped (${t.containerSkip})`);
  }
  for (const name of args.workloads) {
    say(`workload ${name}`);
    const start = await uptimeSeconds();
    const t0 = performance.now();
    try {
      const res = await WORKLOADS[name](ctx);
      out.rows.push(...res.rows);
      out.notes.push(...res.notes);
    } catch (err) {
      out.notes.push(`workload ${name} failed: ${err instanceof Error ? err.message : err}`);
      say(`workload ${name} failed: ${err instanceof Error ? err.stack : err}`);
    }
    out.windows.push({ name, start, end: await uptimeSeconds() });
    say(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  return out;
}

async function keepProfile(o: { profDir: string; outDir: string; windows: Window[] }) {
  const path = await newestProfile(o.profDir);
  if (!path) return undefined;
  // The daemon runs minified (bin/bundle): frames are put back to their sources before the
  // profile is kept and read.
  const profile = await resolveProfile(JSON.parse(await Deno.readTextFile(path)));
  const raw = new TextEncoder().encode(JSON.stringify(profile));
  await Deno.writeFile(`${o.outDir}/crio-deno.cpuprofile.gz`, gzipSync(raw));
  // Everything before the first workload: module loading, schema, start-up, warm-up calls.
  const first = o.windows[0]?.start ?? profile.endTime / 1e6;
  const windows = [{ name: "start-up", start: profile.startTime / 1e6, end: first }, ...o.windows];
  const summary = summarizeProfile(profile, windows);
  const md = profileMarkdown(summary);
  await Deno.writeTextFile(`${o.outDir}/profile.md`, md + "\n");
  return { md, summary };
}

async function main(args: BenchArgs): Promise<void> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/:/g, "-").replace(/\..*/, "");
  const outDir = `${HERE}/results/${stamp}`;
  const scratch = `${HERE}/results/tmp/${stamp}`;
  const profDir = `${scratch}/profile`;
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.mkdir(profDir, { recursive: true });
  const critest = `${cacheDir()}/cri-tools/${k8sMinor(DEFAULT_MINOR).criTools}/critest`;
  const machine = await describeMachine({ critest });
  let problems: string[] = [];
  const collected = await withBench(
    { scratch, cpuProfDir: profDir, runtime: args.runtime, keep: args.keep, log: say },
    (bench) => {
      problems = bench.problems;
      return runWorkloads(args, { bench, scratch, critest });
    },
  );
  const profile = await keepProfile({ profDir, outDir, windows: collected.windows });
  const result: BenchResult & { profileSummary?: unknown } = {
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    command: ["deno task bench", ...Deno.args].join(" "),
    machine,
    rows: collected.rows,
    notes: [
      ...STANDING_NOTES,
      ...collected.notes,
      ...splitNotes(collected.rows, ["crio-deno", "containerd"]),
      ...execSplitNote(collected.rows),
      ...listSplitNotes(collected.rows),
      ...problems,
    ],
    profile: profile?.md ?? "No CPU profile was written (the daemon did not exit cleanly?).",
    profileSummary: profile?.summary,
  };
  await Deno.writeTextFile(`${outDir}/results.json`, JSON.stringify(result, null, 2) + "\n");
  const report = renderReport(result);
  await Deno.writeTextFile(`${outDir}/table.md`, report);
  say(report);
  say(`results: ${outDir}`);
}

if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    say(USAGE);
    Deno.exit(0);
  }
  let args: BenchArgs;
  try {
    args = parseBenchArgs(Deno.args);
  } catch (err) {
    say(err instanceof Error ? err.message : String(err));
    Deno.exit(2);
  }
  await main(args);
}
