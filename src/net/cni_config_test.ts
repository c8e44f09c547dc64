import { assert, assertEquals, assertStringIncludes } from "../testing/asserts.ts";
import { type CniFs, readNetwork } from "./cni_config.ts";

function fs(files: Record<string, string>, executables: string[]): CniFs {
  return {
    readDir: (d) =>
      Promise.resolve(
        Object.keys(files).filter((f) => f.startsWith(d)).map((f) => f.slice(d.length)),
      ),
    readFile: (p) => Promise.resolve(files[p]),
    isExecutable: (p) => Promise.resolve(executables.includes(p)),
  };
}

const bridge = JSON.stringify({
  cniVersion: "1.0.0",
  name: "crio",
  plugins: [{ type: "bridge" }, { type: "portmap", capabilities: { portMappings: true } }],
});
const opts = {
  networkDir: "/n/",
  pluginDirs: ["/opt/cni/bin", "/usr/lib/cni"],
  defaultNetwork: "",
};

Deno.test("the first valid config in lexical order wins", async () => {
  const r = await readNetwork(
    fs({ "/n/20-b.conflist": bridge, "/n/10-a.conflist": bridge.replace("crio", "a") }, [
      "/usr/lib/cni/bridge",
      "/opt/cni/bin/portmap",
    ]),
    opts,
  );
  assert(r.ready);
  assertEquals(r.network.name, "a");
});

Deno.test("a single .conf is wrapped into a list", async () => {
  const conf = JSON.stringify({ cniVersion: "0.4.0", name: "one", type: "bridge" });
  const r = await readNetwork(fs({ "/n/x.conf": conf }, ["/opt/cni/bin/bridge"]), opts);
  assert(r.ready);
  assertEquals(r.network.plugins.map((p) => p.type), ["bridge"]);
});

Deno.test("not ready: empty dir, bad JSON, missing plugin, unknown default network", async () => {
  const cases: [Record<string, string>, string, string][] = [
    [{}, "", "no valid CNI network config in /n/"],
    [{ "/n/a.conflist": "{" }, "", "/n/a.conflist: not valid JSON"],
    [{ "/n/a.conflist": bridge }, "", "plugin bridge, portmap not found"],
    [
      { "/n/a.conflist": '{"name":"x","cniVersion":"1.0.0","plugins":[{"type":"../sh"}]}' },
      "",
      "must name a plugin binary",
    ],
    [{ "/n/a.conflist": bridge }, "other", 'named "other"'],
  ];
  for (const [files, defaultNetwork, want] of cases) {
    const r = await readNetwork(fs(files, []), { ...opts, defaultNetwork });
    assert(!r.ready);
    assertEquals(r.reason, "NetworkPluginNotReady");
    assertStringIncludes(r.message, want);
  }
});
