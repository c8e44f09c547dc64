import { assert, assertEquals, assertThrows } from "../src/testing/asserts.ts";
import { buildListClient, goList } from "./go_list.ts";
import { bundleFlags, daemonRuntimeFlags, listFloorRows, startListFloor } from "./list_floor.ts";
import { listSplitNotes } from "./derive.ts";
import { Samples } from "./workloads/common.ts";

Deno.test("daemonRuntimeFlags reads bin/crio's runtime flags and malloc arenas", async () => {
  const script = await Deno.readTextFile(new URL("../bin/crio", import.meta.url));
  const flags = daemonRuntimeFlags(script);
  assert(flags.flags.includes("--no-code-cache"), flags.flags.join(" "));
  assert(flags.flags.some((f) => f.startsWith("--v8-flags=") && f.includes("--max-semi-space")));
  assertEquals(flags.mallocArenas, "2");
  assertThrows(() => daemonRuntimeFlags("exec deno run main.ts"), Error, "bin/crio");
});

Deno.test("bundleFlags reads bin/bundle's deno bundle flags", async () => {
  const script = await Deno.readTextFile(new URL("../bin/bundle", import.meta.url));
  const flags = bundleFlags(script);
  assert(flags.includes("--minify") && flags.includes("--platform=deno"), flags.join(" "));
  assertThrows(() => bundleFlags("deno bundle main.ts"), Error, "bin/bundle");
});

Deno.test({
  name: "the List floor server answers the daemon's items to the Go client, then stops",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "list-floor-test-" });
    const pods = Array.from({ length: 3 }, (_, i) => ({
      id: `p${i}`.padEnd(64, "0"),
      metadata: { name: `pod-${i}`, uid: `u${i}`, namespace: "bench", attempt: 0 },
      state: 0,
      createdAt: String(1764370000000000000n + BigInt(i)),
      labels: { "io.kubernetes.pod.name": `pod-${i}` },
      annotations: {},
      runtimeHandler: "",
    }));
    const containers = Array.from({ length: 5 }, (_, i) => ({
      id: `c${i}`.padEnd(64, "0"),
      podSandboxId: pods[i % 3].id,
      metadata: { name: `c${i}`, attempt: 0 },
      image: { image: "busybox" },
      imageRef: "sha256:" + "a".repeat(64),
      state: 1,
      createdAt: "1764370000123456789",
      labels: {},
      annotations: {},
    }));
    // startListFloor stops its server when it fails; the dir is this test's to remove either way.
    const floor = await startListFloor(dir, { pods, containers }).catch(async (err) => {
      await Deno.remove(dir, { recursive: true });
      throw err;
    });
    try {
      assert(floor.fresh.rssKiB > floor.fresh.anonKiB && floor.fresh.anonKiB > 0);
      const bin = await buildListClient(() => {});
      const p = await goList(bin, { socket: floor.socket, method: "ListPodSandbox", calls: 2 });
      assertEquals(p.items, 3);
      const c = await goList(bin, { socket: floor.socket, method: "ListContainers", calls: 2 });
      assertEquals(c.items, 5);
    } finally {
      await floor.stop();
      await Deno.remove(dir, { recursive: true });
    }
    // Stopped by its PID: no process is left.
    assertEquals(await Deno.stat(`/proc/${floor.pid}`).then(() => true, () => false), false);
  },
});

Deno.test("the floors' rows read the samples under the keys the floors are timed under", () => {
  const s = new Samples();
  // The keys listedFloor uses: `<method> floor` and `<method> <transport floor name> floor`.
  for (const key of ["floor", "http2 floor", "go floor"]) {
    for (const m of ["ListPodSandbox", "ListContainers"]) {
      for (let i = 1; i <= 100; i++) s.add(`${m} ${key}`, "crio-deno", i / 10);
    }
  }
  const rows = listFloorRows(s);
  assertEquals(rows.length, 6);
  assert(rows.every((r) => r.cells["crio-deno"]?.median !== undefined), "every row has samples");
  // and derive.ts finds them by their metric names
  const own = (m: string) => ({
    workload: "e",
    metric: `${m} ×200`,
    unit: "ms" as const,
    cells: { "crio-deno": { median: 1, p99: 7 } },
  });
  const notes = listSplitNotes([own("ListPodSandbox"), own("ListContainers"), ...rows]);
  assertEquals(notes.length, 2, notes.join("\n"));
});
