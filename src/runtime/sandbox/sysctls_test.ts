import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { parseSysctl, planSysctls } from "./sysctls.ts";

Deno.test("parseSysctl() accepts namespaced sysctls, including multi-number values", () => {
  assertEquals(parseSysctl("kernel.shm_rmid_forced", "1").path, "kernel/shm_rmid_forced");
  assertEquals(parseSysctl("kernel.sem", "250 32000 32 128").namespace, "ipc");
  assertEquals(parseSysctl("fs.mqueue.msg_max", "100").namespace, "ipc");
  const slash = parseSysctl("net/ipv4/conf/eth0.100/forwarding", "1");
  assertEquals([slash.key, slash.path], [
    "net.ipv4.conf.eth0/100.forwarding",
    "net/ipv4/conf/eth0.100/forwarding",
  ]);
});

Deno.test("parseSysctl() refuses CVE-2022-0811 injections and host-wide keys", () => {
  const bad: [string, string][] = [
    ["net.ipv4.ip_local_port_range", "1024 65000'+'net.ipv4.ip_forward=0"],
    ["net.ipv4.ip_forward+kernel.core_pattern", "1"],
    ["kernel.shm_rmid_forced", "1\nkernel.core_pattern=|/x"],
    ["kernel.shm_rmid_forced", "1\0"],
    ["kernel.shm_rmid_forced", " 1"],
    ["kernel.shm_rmid_forced", "1\t2"],
    ["kernel.shm_rmid_forced", "a=b"],
    ["kernel.core_pattern", "x"],
    ["vm.overcommit_memory", "1"],
    ["net..ipv4", "1"],
    ["../../proc/sysrq-trigger", "b"],
    ["Net.ipv4.ip_forward", "1"],
  ];
  for (const [k, v] of bad) assertThrows(() => parseSysctl(k, v), InvalidArgumentError);
});

Deno.test("planSysctls() skips sysctls of namespaces shared with the host", () => {
  const plan = planSysctls(
    { "net.ipv4.ip_forward": "1", "kernel.msgmax": "8192" },
    { defaults: ["kernel.shm_rmid_forced=1"], hostNetwork: true, hostIpc: false },
  );
  assertEquals(plan.apply.map((s) => s.key), ["kernel.shm_rmid_forced", "kernel.msgmax"]);
  assertEquals(plan.skipped.map((s) => s.key), ["net.ipv4.ip_forward"]);
});
