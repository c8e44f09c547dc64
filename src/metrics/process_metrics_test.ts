import { assert, assertEquals, assertStringIncludes } from "../testing/asserts.ts";
import client from "prom-client";
import { parseMaxFds, parseStatusMemory, registerProcessMetrics } from "./process_metrics.ts";
import { Metrics } from "./metrics.ts";

const STATUS = "Name:\tdeno\nVmPeak:\t  900000 kB\nVmSize:\t  800000 kB\nVmData:\t  120000 kB\n" +
  "VmRSS:\t   85152 kB\nRssAnon:\t   35552 kB\n";
const LIMITS = "Limit                     Soft Limit           Hard Limit           Units     \n" +
  "Max processes             94029                94029                processes \n" +
  "Max open files            1048576              1048576              files     \n";

Deno.test("parseStatusMemory reads VmRSS, VmSize and VmData in bytes", () => {
  assertEquals(parseStatusMemory(STATUS), {
    residentBytes: 85152 * 1024,
    virtualBytes: 800000 * 1024,
    dataBytes: 120000 * 1024,
  });
  // A kernel thread's status has no Vm lines: nothing rather than zeros.
  assertEquals(parseStatusMemory("Name:\tkthreadd\nState:\tS (sleeping)\n"), undefined);
});

Deno.test("parseMaxFds reads the soft limit of open files", () => {
  assertEquals(parseMaxFds(LIMITS), 1048576);
  assertEquals(
    parseMaxFds("Max open files            unlimited            unlimited            files\n"),
    Infinity,
  );
  assertEquals(parseMaxFds(""), undefined);
});

Deno.test("the process gauges are set from the source at each scrape", async () => {
  const registry = new client.Registry();
  let fds = 7;
  registerProcessMetrics(registry, {
    readFile: (path) => path.endsWith("/status") ? STATUS : path.endsWith("/limits") ? LIMITS : "",
    countEntries: (path) => path === "/proc/self/fd" ? fds : undefined,
  });
  let text = await registry.metrics();
  assertStringIncludes(text, `process_resident_memory_bytes ${85152 * 1024}\n`);
  assertStringIncludes(text, `process_virtual_memory_bytes ${800000 * 1024}\n`);
  assertStringIncludes(text, `process_heap_bytes ${120000 * 1024}\n`);
  assertStringIncludes(text, "process_open_fds 7\n");
  assertStringIncludes(text, "process_max_fds 1048576\n");
  fds = 9;
  text = await registry.metrics();
  // Read again at the next scrape.
  assertStringIncludes(text, "process_open_fds 9\n");
});

// Deno refuses node:fs reads of /proc/self without --allow-all, and the tests (like the daemon)
// run without it: prom-client's own collectors reported 0 here.
Deno.test("the daemon's metrics report its own resident memory and fds", async () => {
  const text = await new Metrics().text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
  const rss = value("process_resident_memory_bytes");
  assert(rss > 10 << 20, `process_resident_memory_bytes ${rss}`);
  assert(value("process_virtual_memory_bytes") > rss);
  assert(value("process_open_fds") >= 3, `process_open_fds ${value("process_open_fds")}`);
  assert(value("process_max_fds") >= value("process_open_fds"));
  assertEquals(text.match(/^process_resident_memory_bytes /gm)?.length, 1, "one series, ours");
});
