import { assert, assertEquals } from "../../testing/asserts.ts";
import { canStart, exitedStatus, isHalfMade, nanos, needsStop } from "./container_state.ts";

Deno.test("guards follow the lifecycle diagram", () => {
  assert(canStart({ state: "created" }));
  for (const s of ["creating", "running", "exited"] as const) assert(!canStart({ state: s }));
  assert(needsStop({ state: "created" }) && needsStop({ state: "running" }));
  assert(!needsStop({ state: "exited" }) && !needsStop({ state: "creating" }));
  assert(isHalfMade(undefined) && isHalfMade({ state: "creating" }));
  assert(!isHalfMade({ state: "created" }));
});

Deno.test("exit reasons are CRI-O's: Completed, Error, OOMKilled", () => {
  const at = new Date(1_700_000_000_123);
  const base = { state: "running" as const, pid: 7, startedAt: "1" };
  assertEquals(exitedStatus(base, { exitCode: 0, finishedAt: at }), {
    ...base,
    state: "exited",
    exitCode: 0,
    finishedAt: "1700000000123000000",
    reason: "Completed",
  });
  assertEquals(exitedStatus(base, { exitCode: 2, finishedAt: at }).reason, "Error");
  assertEquals(
    exitedStatus(base, { exitCode: 137, finishedAt: at, oomKilled: true }).reason,
    "OOMKilled",
  );
  assertEquals(exitedStatus(base, { exitCode: 1, finishedAt: at, message: "m" }).message, "m");
});

Deno.test("timestamps are nanoseconds as decimal strings (beyond 2^53)", () => {
  assertEquals(nanos(new Date(1)), "1000000");
  assert(BigInt(nanos()) > BigInt(Number.MAX_SAFE_INTEGER));
});
