import { parse } from "smol-toml";
import { assertEquals } from "../src/testing/asserts.ts";
import { NETWORKS } from "./cni.ts";
import { containerdConfig, shimAddress } from "./containerd.ts";

Deno.test("containerdConfig: version 2, own paths, CRI settings the bench relies on", () => {
  const text = containerdConfig("/tmp/x", {
    registryHost: "127.0.0.1:5000",
    mirroredHosts: ["docker.io", "registry.k8s.io"],
    sandboxImage: "registry.k8s.io/pause:3.10.1",
    network: NETWORKS.containerd,
    runc: "/usr/sbin/runc",
    crun: "/usr/bin/crun",
    cniBinDir: "/opt/cni/bin",
  });
  // deno-lint-ignore no-explicit-any
  const c = parse(text) as any;
  assertEquals([c.version, c.root, c.state, c.grpc.address], [
    2,
    "/tmp/x/root",
    "/tmp/x/state",
    "/tmp/x/containerd.sock",
  ]);
  const cri = c.plugins["io.containerd.grpc.v1.cri"];
  assertEquals(cri.restrict_oom_score_adj, true);
  assertEquals(cri.sandbox_image, "registry.k8s.io/pause:3.10.1");
  assertEquals({ ...cri.cni }, {
    bin_dir: "/opt/cni/bin",
    conf_dir: "/tmp/x/cni/net.d",
    max_conf_num: 1,
  });
  assertEquals(cri.containerd.default_runtime_name, "runc");
  assertEquals(cri.containerd.runtimes.crun.options.BinaryName, "/usr/bin/crun");
  assertEquals(cri.containerd.runtimes.runc.runtime_type, "io.containerd.runc.v2");
  assertEquals(cri.containerd.runtimes.runc.options.Root, "/tmp/x/runtime-root/runc");
  assertEquals(cri.registry.mirrors["docker.io"].endpoint, ["http://127.0.0.1:5000"]);
  assertEquals(c.plugins["io.containerd.internal.v1.opt"].path, "/tmp/x/opt");
});

Deno.test("shimAddress: the socket a shim serves", () => {
  assertEquals(
    shimAddress("/usr/bin/containerd-shim-runc-v2 -namespace k8s.io -id ab -address /t/c.sock"),
    "/t/c.sock",
  );
  assertEquals(shimAddress("/usr/bin/containerd-shim-runc-v2 -id ab"), undefined);
});
