import { assert, assertEquals } from "../../testing/asserts.ts";
import { buildInfraSpec, INFRA_OOM_SCORE_ADJ, type InfraSpecInput } from "./infra.ts";

function input(over: Partial<InfraSpecInput> = {}): InfraSpecInput {
  return {
    podId: "a".repeat(64),
    podName: "k8s_web_ns_uid_0",
    rootfs: "/run/pods/a/infra-rootfs",
    args: ["/pause"],
    user: { uid: 65535, gid: 65535 },
    namespaces: { net: "/ns/netns/a", ipc: "/ns/ipcns/a", uts: "/ns/utsns/a" },
    newPidNamespace: true,
    hostname: "web",
    shmPath: "/run/pods/a/shm",
    cgroupParent: "/kubepods/pod1",
    cgroupDriver: "cgroupfs",
    image: "registry.k8s.io/pause:3.10.1",
    oomScoreAdj: INFRA_OOM_SCORE_ADJ,
    created: new Date(0),
    ...over,
  };
}

Deno.test("buildInfraSpec(): pinned namespaces joined, a PID namespace of its own, new mount ns", () => {
  const spec = buildInfraSpec(input());
  assertEquals(spec.linux.namespaces, [
    { type: "network", path: "/ns/netns/a" },
    { type: "ipc", path: "/ns/ipcns/a" },
    { type: "uts", path: "/ns/utsns/a" },
    { type: "pid" },
    { type: "mount" },
  ]);
  assertEquals(spec.hostname, "web");
  assertEquals(spec.linux.cgroupsPath, `/kubepods/pod1/crio-${"a".repeat(64)}`);
  assertEquals(spec.annotations["io.kubernetes.cri-o.ContainerType"], "sandbox");
  assertEquals(spec.annotations["io.kubernetes.cri-o.SandboxID"], "a".repeat(64));
  assertEquals(spec.annotations["io.kubernetes.container.name"], "POD");
});

Deno.test("buildInfraSpec(): read-only root, no capabilities, no new privileges, low OOM score", () => {
  const spec = buildInfraSpec(input());
  assertEquals(spec.root, { path: "/run/pods/a/infra-rootfs", readonly: true });
  const caps = spec.process.capabilities!;
  for (
    const set of [caps.bounding, caps.effective, caps.permitted, caps.inheritable, caps.ambient]
  ) {
    assertEquals(set, []);
  }
  assertEquals(spec.process.noNewPrivileges, true);
  assertEquals(spec.process.oomScoreAdj, INFRA_OOM_SCORE_ADJ);
  assertEquals(spec.process.user, { uid: 65535, gid: 65535 });
  assertEquals(spec.process.args, ["/pause"]);
  assertEquals(spec.linux.resources?.devices, [{ allow: false, access: "rwm" }]);
  assert(spec.linux.maskedPaths?.includes("/proc/kcore"));
  assert(spec.linux.readonlyPaths?.includes("/proc/sys"));
  assertEquals(spec.linux.seccomp, undefined);
});

Deno.test("buildInfraSpec(): the pod's /dev/shm is bound; a tmpfs when the pod shares host IPC", () => {
  const shm = (s: ReturnType<typeof buildInfraSpec>) =>
    s.mounts.find((m) => m.destination === "/dev/shm");
  assertEquals(shm(buildInfraSpec(input())), {
    destination: "/dev/shm",
    type: "bind",
    source: "/run/pods/a/shm",
    options: ["rw", "bind"],
  });
  assertEquals(shm(buildInfraSpec(input({ shmPath: undefined })))?.type, "tmpfs");
});

Deno.test("buildInfraSpec(): host network, IPC and PID leave those namespaces out", () => {
  const spec = buildInfraSpec(input({ namespaces: {}, newPidNamespace: false }));
  assertEquals(spec.linux.namespaces, [{ type: "mount" }]);
  assertEquals(spec.hostname, undefined);
});

Deno.test("buildInfraSpec(): infra_ctr_cpuset, the systemd driver and a seccomp filter", () => {
  const seccomp = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [] };
  const spec = buildInfraSpec(input({ cpuset: "0-1", cgroupDriver: "systemd", seccomp }));
  assertEquals(spec.linux.resources?.cpu, { cpus: "0-1" });
  assertEquals(spec.linux.cgroupsPath, `/kubepods/pod1:crio:${"a".repeat(64)}`);
  assertEquals(spec.linux.seccomp, seccomp);
  assertEquals(buildInfraSpec(input()).linux.resources?.cpu, undefined);
});
