import { assertEquals, assertRejects } from "../testing/asserts.ts";
import { cniEnv, CniPluginError, execPlugin, resultIps } from "./cni_exec.ts";

const call = {
  command: "ADD" as const,
  containerId: "abc",
  netns: "/run/netns/abc",
  ifName: "eth0",
  args: [["K8S_POD_NAME", "web"]] as [string, string][],
  pluginDirs: ["/opt/cni/bin/", "/usr/lib/cni"],
};

Deno.test("cniEnv() sets the CNI_* variables of the spec", () => {
  assertEquals(cniEnv(call), {
    CNI_COMMAND: "ADD",
    CNI_CONTAINERID: "abc",
    CNI_NETNS: "/run/netns/abc",
    CNI_IFNAME: "eth0",
    CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAME=web",
    CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
  });
});

Deno.test("execPlugin() names plugin, network and the plugin's error", async () => {
  const out = JSON.stringify({
    cniVersion: "1.0.0",
    code: 11,
    msg: "no IP",
    details: "range full",
  });
  const runner = { run: () => Promise.resolve({ code: 1, stdout: out, stderr: "" }) };
  const err = await assertRejects(
    () => execPlugin(runner, "/x/bridge", { call, config: { type: "bridge", name: "net1" } }),
    CniPluginError,
    'CNI plugin bridge (network "net1") ADD failed (code 11): no IP: range full',
  );
  assertEquals(err.code, 11);
});

Deno.test("resultIps() lists IPv4 first, without prefix lengths", () => {
  const r = { ips: [{ address: "fd00::5/64" }, { address: "10.85.0.5/16" }] };
  assertEquals(resultIps(r), ["10.85.0.5", "fd00::5"]);
  assertEquals(resultIps({ ip4: { ip: "10.1.0.2/24" } }), ["10.1.0.2"]);
});
