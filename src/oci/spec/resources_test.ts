import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import type { LinuxContainerResources } from "../../cri/gen/api.ts";
import { buildResources, minMemoryBytes, type ResourceFacts } from "./resources.ts";

const v1: ResourceFacts = {
  daemonOomScoreAdj: 0,
  canLowerOomScore: false,
  cgroupV2: false,
  swapAccounting: true,
};
const opts = { pidsLimit: -1, minMemory: 12 << 20 };

Deno.test("buildResources() maps CPU, memory, hugepages and pids", () => {
  const cases: [string, LinuxContainerResources, Partial<ResourceFacts>, typeof opts, unknown][] = [
    ["nothing", {}, {}, opts, {}],
    [
      "cpu",
      { cpuShares: 512, cpuQuota: "50000", cpuPeriod: 100000, cpusetCpus: "0-1", cpusetMems: "0" },
      {},
      opts,
      {
        cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0-1", mems: "0" },
      },
    ],
    ["memory without swap", { memoryLimitInBytes: 64 << 20 }, {}, opts, {
      memory: { limit: 64 << 20, swap: 64 << 20 },
    }],
    [
      "memory with swap",
      { memoryLimitInBytes: 64 << 20, memorySwapLimitInBytes: 128 << 20 },
      {},
      opts,
      {
        memory: { limit: 64 << 20, swap: 128 << 20 },
      },
    ],
    ["no swap accounting", { memoryLimitInBytes: 64 << 20 }, { swapAccounting: false }, opts, {
      memory: { limit: 64 << 20 },
    }],
    ["pids and hugepages", { hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }] }, {}, {
      ...opts,
      pidsLimit: 1024,
    }, {
      pids: { limit: 1024 },
      hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
    }],
    ["unified on v2", { unified: { "memory.high": "1M" } }, { cgroupV2: true }, opts, {
      unified: { "memory.high": "1M" },
    }],
    ["unified dropped on v1", { unified: { "memory.high": "1M" } }, {}, opts, {}],
  ];
  for (const [name, r, facts, o, want] of cases) {
    assertEquals(buildResources(r, { ...v1, ...facts }, o).resources, want, name);
  }
});

Deno.test("buildResources() clamps a lower oom_score_adj to the daemon's, with a warning", () => {
  const cases: [number, Partial<ResourceFacts>, number, number][] = [
    [500, {}, 500, 0],
    [-997, {}, 0, 1],
    [-997, { daemonOomScoreAdj: -500 }, -500, 1],
    [-997, { canLowerOomScore: true }, -997, 0],
    [0, {}, 0, 0],
  ];
  for (const [req, facts, want, warns] of cases) {
    const r = buildResources({ oomScoreAdj: req }, { ...v1, ...facts }, opts);
    assertEquals([r.oomScoreAdj, r.warnings.length], [want, warns], String(req));
  }
});

Deno.test("buildResources() refuses out-of-range values", () => {
  const cases: [LinuxContainerResources, string][] = [
    [{ memoryLimitInBytes: 1 << 20 }, "too low"],
    [{ memoryLimitInBytes: 64 << 20, memorySwapLimitInBytes: 32 << 20 }, "cannot be lower"],
    [{ oomScoreAdj: 1001 }, "outside"],
    [{ hugepageLimits: [{ pageSize: "2M", limit: 1 }] }, "hugepage"],
    [{ cpuShares: "lots" }, "not a number"],
  ];
  for (const [r, msg] of cases) {
    assertThrows(() => buildResources(r, v1, opts), InvalidArgumentError, msg);
  }
});

Deno.test("minMemoryBytes() reads container_min_memory with CRI-O's defaults", () => {
  assertEquals(minMemoryBytes("", "runc"), 12 << 20);
  assertEquals(minMemoryBytes("", "crun"), 500 << 10);
  assertEquals(minMemoryBytes("4MiB", "runc"), 4 << 20);
  assertEquals(minMemoryBytes("300", "runc"), 300);
  assertThrows(() => minMemoryBytes("lots", "runc"), InvalidArgumentError);
});
