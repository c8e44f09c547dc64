/**
 * (a) critest's own benchmark suites (`critest -benchmark`) against each runtime: pod lifecycle,
 * image lifecycle and listing, and container lifecycle where CreateContainer works. critest
 * writes per-operation durations (ns) into JSON files; medians and p99 come from those.
 */
import { spawnChild } from "../../conformance/process.ts";
import type { Target } from "../target.ts";
import { row, Samples, type WorkloadContext, type WorkloadResult } from "./common.ts";

interface LifecycleData {
  operationsNames: string[];
  datapoints: { operationsDurationsNs: number[] }[];
}

const FILES = [
  "pod_benchmark_data.json",
  "image_lifecycle_benchmark_data.json",
  "image_listing_benchmark_data.json",
  "container_benchmark_data.json",
];

export function paramsYaml(o: { samples: number; image: string; listing: string[] }): string {
  return [
    `containersNumber: ${o.samples}`,
    "containersNumberParallel: 1",
    "containerBenchmarkTimeoutSeconds: 120",
    `podsNumber: ${o.samples}`,
    "podsNumberParallel: 1",
    "podBenchmarkTimeoutSeconds: 120",
    `imagesNumber: ${o.samples}`,
    "imagesNumberParallel: 1",
    "imageBenchmarkTimeoutSeconds: 120",
    "podContainerStartBenchmarkTimeoutSeconds: 60",
    `imagePullingBenchmarkImage: ${JSON.stringify(o.image)}`,
    "imageListingBenchmarkImages:",
    ...o.listing.map((i) => `  - ${JSON.stringify(i)}`),
    "",
  ].join("\n");
}

/** Milliseconds per operation name from one of critest's benchmark data files. */
export function operationSamples(data: LifecycleData): Map<string, number[]> {
  const out = new Map<string, number[]>();
  data.operationsNames.forEach((name, i) => {
    out.set(name, data.datapoints.map((d) => d.operationsDurationsNs[i] / 1e6));
  });
  return out;
}

interface Suite {
  tag: string;
  focus: string;
  skip?: string;
}

/**
 * critest -benchmark focuses on "benchmark about" itself; a focus given replaces that, so it is
 * repeated here. Pod and image suites first, the container suites in a second run: the container suites pull
 * busybox, whose layer the small bench image shares, which would make later image pulls cheaper.
 */
const SUITES: Suite[] = [
  { tag: "pod-image", focus: "benchmark about", skip: "[Cc]ontainer" },
  { tag: "container", focus: "benchmark about.*[Cc]ontainer" },
];

async function runOne(
  t: Target,
  o: { ctx: WorkloadContext; s: Samples; suite: Suite },
): Promise<string[]> {
  const dir = `${o.ctx.scratch}/critest-${t.name}-${o.suite.tag}`;
  await Deno.mkdir(`${dir}/out`, { recursive: true });
  const small = o.ctx.images.find((i) => i.key === "small")!.ref;
  await Deno.writeTextFile(
    `${dir}/params.yaml`,
    paramsYaml({ samples: o.ctx.iterations, image: small, listing: [small] }),
  );
  await Deno.writeTextFile(`${dir}/images.yaml`, `defaultTestContainerImage: "${o.ctx.busybox}"\n`);
  const endpoint = `unix://${t.socket}`;
  const args = [
    "-benchmark",
    `-runtime-endpoint=${endpoint}`,
    `-image-endpoint=${endpoint}`,
    `-benchmarking-params-file=${dir}/params.yaml`,
    `-benchmarking-output-dir=${dir}/out`,
    `-test-images-file=${dir}/images.yaml`,
    "-ginkgo.no-color",
    `-ginkgo.focus=${o.suite.focus}`,
  ];
  if (o.suite.skip) args.push(`-ginkgo.skip=${o.suite.skip}`);
  const child = spawnChild(o.ctx.critest, { args, logFile: `${dir}/critest.log`, cwd: dir });
  const timer = setTimeout(() => void child.stop(5000), 10 * 60_000);
  const status = await child.status;
  clearTimeout(timer);
  const notes = status.success
    ? []
    : [`critest (${o.suite.tag}) against ${t.name} exited ${status.code}; see ${dir}/critest.log`];
  for (const file of FILES) {
    let data: LifecycleData;
    try {
      data = JSON.parse(await Deno.readTextFile(`${dir}/out/${file}`));
    } catch {
      continue;
    }
    for (const [op, ms] of operationSamples(data)) for (const v of ms) o.s.add(op, t.name, v);
  }
  return notes;
}

const OPERATIONS = [
  "CreatePod",
  "StatusPod",
  "StopPod",
  "RemovePod",
  "PullImage",
  "StatusImage",
  "RemoveImage",
  "ListImages",
  "CreateContainer",
  "StartContainer",
  "StatusContainer",
  "StopContainer",
  "RemoveContainer",
];

export async function critest(ctx: WorkloadContext): Promise<WorkloadResult> {
  const s = new Samples();
  const notes: string[] = [];
  for (const suite of SUITES) {
    for (const t of ctx.targets) {
      if (suite.tag === "container" && t.containerSkip) continue;
      notes.push(...await runOne(t, { ctx, s, suite }));
    }
  }
  for (const t of ctx.targets) {
    if (!t.containerSkip) continue;
    for (const op of OPERATIONS.filter((o) => o.endsWith("Container"))) {
      s.add(op, t.name, t.containerSkip);
    }
  }
  const rows = OPERATIONS.map((op) =>
    row({ workload: "a", metric: `critest -benchmark: ${op}`, unit: "ms" }, s.get(op))
  ).filter((r) => Object.keys(r.cells).length > 0);
  notes.push(
    `a: critest -benchmark, ${ctx.iterations} samples per suite, pulls of the small bench image.`,
  );
  return { rows, notes };
}
