import { assertEquals } from "../src/testing/asserts.ts";
import {
  type CpuProfile,
  groupOf,
  profileMarkdown,
  shortUrl,
  summarizeProfile,
} from "./profile.ts";

const SRC = "file:///work/repo/src/net/cni_exec.ts";
const GRPC =
  "file:///root/.cache/deno/npm/registry.npmjs.org/@grpc/grpc-js/1.14.7/build/src/server.js";

// root → handler (src) → encode (npm); plus idle and GC.
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [2, 4, 5] },
    { id: 2, callFrame: { functionName: "runCni", url: SRC, lineNumber: 9 }, children: [3] },
    { id: 3, callFrame: { functionName: "sendUnary", url: GRPC, lineNumber: 99 } },
    { id: 4, callFrame: { functionName: "(idle)", url: "", lineNumber: -1 } },
    { id: 5, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1 } },
  ],
  startTime: 10_000_000,
  endTime: 10_010_000,
  samples: [2, 3, 3, 4, 5],
  timeDeltas: [1000, 2000, 2000, 4000, 1000],
};

Deno.test("shortUrl and groupOf: repo paths, npm packages, VM states", () => {
  assertEquals(shortUrl(SRC), "src/net/cni_exec.ts");
  assertEquals(shortUrl(GRPC), "npm:@grpc/grpc-js");
  assertEquals(groupOf({ functionName: "x", url: SRC }), "src/net");
  assertEquals(groupOf({ functionName: "(garbage collector)", url: "" }), "(garbage collector)");
  assertEquals(groupOf({ functionName: "op", url: "ext:core/01_core.js" }), "deno ext:core");
});

Deno.test("summarizeProfile: self, group, inclusive and windows; idle left out", () => {
  const s = summarizeProfile(PROFILE, [
    { name: "early", start: 10, end: 10.0025 },
    { name: "late", start: 10.0025, end: 11 },
  ]);
  assertEquals(s.busyMs, 6);
  assertEquals(s.totalMs, 10);
  assertEquals(s.selfByFunction[0], {
    name: "sendUnary npm:@grpc/grpc-js:100",
    ms: 4,
    share: 4 / 6,
  });
  assertEquals(s.selfByGroup.map((g) => g.name), [
    "npm:@grpc/grpc-js",
    "src/net",
    "(garbage collector)",
  ]);
  assertEquals(s.inclusiveBySourceFile, [{ name: "src/net/cni_exec.ts", ms: 5, share: 5 / 6 }]);
  assertEquals(s.windows.map((w) => [w.name, w.busyMs]), [["early", 1], ["late", 5]]);
  const md = profileMarkdown(s);
  assertEquals(md.includes("| `runCni src/net/cni_exec.ts:10` | 1 | 16.7% |"), true);
});
