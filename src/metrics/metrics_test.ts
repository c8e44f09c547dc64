import { assertEquals, assertStringIncludes } from "../testing/asserts.ts";
import { Metrics, serveMetrics } from "./metrics.ts";

Deno.test("operations are counted under CRI-O's names", async () => {
  const m = new Metrics({ processMetrics: false });
  m.observe("/runtime.v1.RuntimeService/Version", 0.001, undefined);
  m.observe("/runtime.v1.RuntimeService/Version", 0.002, "NotFound");
  const text = await m.text();
  assertStringIncludes(
    text,
    'container_runtime_crio_operations_total{operation="/runtime.v1.RuntimeService/Version"} 2',
  );
  assertStringIncludes(
    text,
    'container_runtime_crio_operations_errors_total{operation="/runtime.v1.RuntimeService/Version"} 1',
  );
  assertStringIncludes(text, "container_runtime_crio_operations_latency_seconds_total_count");
});

Deno.test("the server answers /metrics on loopback and 404 elsewhere", async () => {
  const m = new Metrics();
  m.observe("x", 0.1, undefined);
  const srv = serveMetrics(m, { hostname: "127.0.0.1", port: 0 });
  try {
    const base = `http://127.0.0.1:${srv.addr.port}`;
    const ok = await fetch(`${base}/metrics`);
    assertEquals(ok.status, 200);
    const body = await ok.text();
    assertStringIncludes(body, "container_runtime_crio_operations_total");
    assertStringIncludes(body, "process_cpu_user_seconds_total");
    const missing = await fetch(`${base}/other`);
    assertEquals(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await srv.close();
  }
});
