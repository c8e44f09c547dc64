import { assertEquals, assertThrows } from "../src/testing/asserts.ts";
import { parseBenchArgs } from "./args.ts";

Deno.test("parseBenchArgs: defaults run everything in the fixed order", () => {
  const a = parseBenchArgs([]);
  assertEquals(a.workloads, ["pull", "critest", "pod", "ctr", "cni", "burst"]);
  assertEquals([a.iterations, a.pods, a.pullReps, a.runtime, a.keep], [20, 110, 3, "runc", false]);
  assertEquals(a.burstFirst, "crio-deno");
  assertEquals(parseBenchArgs(["burst", "--burst-first", "containerd"]).burstFirst, "containerd");
});

Deno.test("parseBenchArgs: names and issue letters, deduplicated, canonical order", () => {
  assertEquals(parseBenchArgs(["burst", "g", "b-pod"]).workloads, ["pull", "pod", "burst"]);
  assertEquals(parseBenchArgs(["f"]).workloads, ["pod", "cni", "burst"]);
  const a = parseBenchArgs(["pull", "--pull-reps=2", "--iterations", "5", "--runtime", "crun"]);
  assertEquals([a.workloads, a.pullReps, a.iterations, a.runtime], [["pull"], 2, 5, "crun"]);
});

Deno.test("parseBenchArgs: refuses unknown workloads and bad numbers", () => {
  assertThrows(() => parseBenchArgs(["nope"]));
  assertThrows(() => parseBenchArgs(["--pods", "0"]));
  assertThrows(() => parseBenchArgs(["--runtime", "kata"]));
  assertThrows(() => parseBenchArgs(["--burst-first", "cri-o"]), Error, "--burst-first");
  assertThrows(() => parseBenchArgs(["--frobnicate"]));
});
