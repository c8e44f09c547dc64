import { assertEquals } from "../src/testing/asserts.ts";
import { cpuSeconds, parsePs, parseStat, parseStatusLines } from "./procfs.ts";

Deno.test("parseStat: name with blanks and parentheses, CPU fields in seconds", () => {
  const line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 30 20 20 0 " +
    "1 0 100 1000 200 18446744073709551615";
  const s = parseStat(line, 100);
  assertEquals(s, {
    pid: 4242,
    ppid: 1,
    comm: "my (odd) name",
    user: 2.5,
    system: 0.5,
    childUser: 0.3,
    childSystem: 0.2,
  });
  assertEquals(cpuSeconds(s, { children: false }), 3);
  assertEquals(cpuSeconds(s, { children: true }), 3.5);
});

Deno.test("parseStatusLines: VmRSS, VmHWM and RssAnon per PID from grep -H", () => {
  const text = [
    "/proc/10/status:VmHWM:\t   20480 kB",
    "/proc/10/status:VmRSS:\t   10240 kB",
    "/proc/10/status:RssAnon:\t    4096 kB",
    "/proc/11/status:VmRSS:\t     512 kB",
    "grep: /proc/12/status: No such file or directory",
  ].join("\n");
  const m = parseStatusLines(text);
  assertEquals(m.get(10), { rssKiB: 10240, hwmKiB: 20480, anonKiB: 4096 });
  assertEquals(m.get(11), { rssKiB: 512, hwmKiB: 0, anonKiB: 0 });
  assertEquals(m.has(12), false);
});

Deno.test("parsePs: pid, ppid and the whole command line", () => {
  const out = parsePs("    1     0 /sbin/init splash\n  77    1 containerd-shim-runc-v2 -id x\n");
  assertEquals(out, [
    { pid: 1, ppid: 0, args: "/sbin/init splash" },
    { pid: 77, ppid: 1, args: "containerd-shim-runc-v2 -id x" },
  ]);
});
