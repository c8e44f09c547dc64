import { assertEquals } from "../testing/asserts.ts";
import { loadSchema } from "./schema.ts";

const runtime = loadSchema().definitions.RuntimeService;

Deno.test("int64 fields decode to numbers when exact and to decimal strings otherwise", () => {
  const d = runtime.ExecSync;
  const small = d.requestDeserialize(d.requestSerialize({ containerId: "x", timeout: 5 }));
  assertEquals((small as { timeout: unknown }).timeout, 5);
  const big = d.requestDeserialize(
    d.requestSerialize({ containerId: "x", timeout: "9007199254740993" }),
  );
  assertEquals((big as { timeout: unknown }).timeout, "9007199254740993");
  const neg = d.requestDeserialize(d.requestSerialize({ containerId: "x", timeout: -3 }));
  assertEquals((neg as { timeout: unknown }).timeout, -3);
});

Deno.test("int64 fields nested in messages, lists and maps are converted too", () => {
  const u = runtime.UpdateContainerResources;
  const req = u.requestDeserialize(u.requestSerialize({
    containerId: "x",
    linux: {
      memoryLimitInBytes: "18446744073709551",
      cpuQuota: 50000,
      hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
    },
  })) as { linux: Record<string, unknown> };
  assertEquals(req.linux.memoryLimitInBytes, "18446744073709551");
  assertEquals(req.linux.cpuQuota, 50000);
  assertEquals(req.linux.hugepageLimits, [{ pageSize: "2MB", limit: 4194304 }]);
});
