import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { type Mount, MountPropagation as P } from "../../cri/gen/api.ts";
import {
  buildMounts,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  imageVolumeTargets,
  type MountsInput,
  protectedPaths,
} from "./mounts.ts";

const base: MountsInput = {
  criMounts: [],
  pod: {},
  privileged: false,
  readonlyRootfs: false,
  daemonReadOnly: false,
  rroSupported: true,
};
const dests = (i: Partial<MountsInput>) =>
  buildMounts({ ...base, ...i }).mounts.map((m) => m.destination);
const find = (i: Partial<MountsInput>, d: string) =>
  buildMounts({ ...base, ...i }).mounts.find((m) => m.destination === d);

Deno.test("buildMounts() gives the standard set, the pod files and the read_only tmpfs", () => {
  assertEquals(dests({}), [
    "/proc",
    "/dev",
    "/dev/pts",
    "/dev/mqueue",
    "/dev/shm",
    "/sys",
    "/sys/fs/cgroup",
  ]);
  const pod = {
    shmPath: "/run/pod/shm",
    resolvPath: "/run/pod/resolv.conf",
    hostnamePath: "/h",
    hostsPath: "/hosts",
  };
  assertEquals(find({ pod }, "/dev/shm"), {
    destination: "/dev/shm",
    type: "bind",
    source: "/run/pod/shm",
    options: ["rw", "bind"],
  });
  assertEquals(find({ pod, readonlyRootfs: true }, "/etc/resolv.conf")?.options, [
    "ro",
    "bind",
    "nodev",
    "nosuid",
    "noexec",
  ]);
  assertEquals(find({ pod }, "/etc/hosts")?.options, ["rw", "bind"]);
  assertEquals(dests({ daemonReadOnly: true }).slice(-3), ["/run", "/tmp", "/var/tmp"]);
  assertEquals(find({ privileged: true }, "/sys")?.options, [
    "nosuid",
    "noexec",
    "nodev",
    "rw",
    "rslave",
  ]);
  assertEquals(find({ privileged: true }, "/sys/fs/cgroup")?.options?.includes("ro"), false);
});

Deno.test("buildMounts() maps CRI mounts: propagation, ro, rro, ordering, overrides", () => {
  const m = (containerPath: string, extra: Partial<Mount> = {}): Mount => ({
    containerPath,
    hostPath: `/host${containerPath}`,
    ...extra,
  });
  const cases: [string, Mount, string[], string | undefined][] = [
    ["private rw", m("/data"), ["rbind", "rprivate", "rw"], undefined],
    ["readonly", m("/data", { readonly: true }), ["rbind", "rprivate", "ro"], undefined],
    [
      "rro",
      m("/data", { readonly: true, recursiveReadOnly: true }),
      ["rbind", "rprivate", "rro"],
      undefined,
    ],
    ["rslave", m("/data", { propagation: P.PROPAGATION_HOST_TO_CONTAINER }), [
      "rbind",
      "rslave",
      "rw",
    ], "rslave"],
    ["rshared", m("/data", { propagation: P.PROPAGATION_BIDIRECTIONAL }), [
      "rbind",
      "rshared",
      "rw",
    ], "rshared"],
  ];
  for (const [name, mount, options, root] of cases) {
    const r = buildMounts({ ...base, criMounts: [mount] });
    assertEquals(r.mounts.at(-1)?.options, options, name);
    assertEquals(r.rootfsPropagation, root, name);
    assertEquals(r.volumes[0].container_path, "/data", name);
  }
  const r = buildMounts({
    ...base,
    criMounts: [
      m("/a/b/c"),
      m("/dev/shm"),
      m("/a"),
      m("/x", { propagation: P.PROPAGATION_BIDIRECTIONAL }),
      m("/y", { propagation: P.PROPAGATION_HOST_TO_CONTAINER }),
    ],
    pod: { shmPath: "/pod/shm" },
  });
  assertEquals(r.mounts.filter((x) => x.type === "bind").map((x) => x.destination), [
    "/a",
    "/x",
    "/y",
    "/dev/shm",
    "/a/b/c",
  ]);
  assertEquals(r.mounts.find((x) => x.destination === "/dev/shm")?.source, "/host/dev/shm");
  assertEquals(r.rootfsPropagation, "rshared");
  assert(!dests({ criMounts: [m("/dev")] }).includes("/dev/pts"));
  assert(!dests({ criMounts: [m("/sys")] }).includes("/sys/fs/cgroup"));
});

Deno.test("buildMounts() makes a private mount of the storage root's parent rslave", () => {
  const r = buildMounts({
    ...base,
    storageRoot: "/var/lib/crio/storage",
    criMounts: [{ containerPath: "/v", hostPath: "/var/lib" }],
  });
  assertEquals(r.mounts.at(-1)?.options, ["rbind", "rslave", "rw"]);
  const s = buildMounts({
    ...base,
    storageRoot: "/var/lib/crio/storage",
    criMounts: [{ containerPath: "/v", hostPath: "/var/libx" }],
  });
  assertEquals(s.mounts.at(-1)?.options, ["rbind", "rprivate", "rw"]);
});

Deno.test("buildMounts() refuses bad CRI mounts", () => {
  const cases: [Mount, string, boolean?][] = [
    [{ containerPath: "rel", hostPath: "/h" }, "absolute"],
    [{ containerPath: "/c" }, "host_path is empty"],
    [{ containerPath: "/c", hostPath: "/h", recursiveReadOnly: true }, "needs readonly"],
    [{
      containerPath: "/c",
      hostPath: "/h",
      readonly: true,
      recursiveReadOnly: true,
      propagation: P.PROPAGATION_HOST_TO_CONTAINER,
    }, "private propagation"],
    [
      { containerPath: "/c", hostPath: "/h", readonly: true, recursiveReadOnly: true },
      "does not support",
      false,
    ],
    [{ containerPath: "/c", hostPath: "/h", propagation: 9 as P }, "unknown propagation"],
    [{ containerPath: "/c", image: { image: "busybox" } }, "host_path is empty"],
  ];
  for (const [mount, msg, rro] of cases) {
    assertThrows(
      () => buildMounts({ ...base, rroSupported: rro ?? true, criMounts: [mount] }),
      InvalidArgumentError,
      msg,
    );
  }
});

Deno.test("protectedPaths() adds the CRI lists to the defaults, none when privileged", () => {
  const p = protectedPaths({ maskedPaths: ["/bin/ls", "/proc/kcore"], readonlyPaths: ["/tmp"] }, {
    extraMasked: ["/sys/x"],
  });
  assertEquals(p.maskedPaths, [...DEFAULT_MASKED_PATHS, "/sys/x", "/bin/ls"]);
  assertEquals(p.readonlyPaths, [...DEFAULT_READONLY_PATHS, "/tmp"]);
  assertEquals(protectedPaths({ privileged: true, maskedPaths: ["/x"] }), {
    maskedPaths: [],
    readonlyPaths: [],
  });
});

Deno.test("imageVolumeTargets() refuses volumes aimed outside the rootfs", () => {
  assertEquals(imageVolumeTargets({ "/data/": {}, "/a//b": {} }), ["/a/b", "/data"]);
  assertEquals(imageVolumeTargets(null), []);
  for (const bad of ["", "rel", "/..", "/a/../../b", "/"]) {
    assertThrows(() => imageVolumeTargets({ [bad]: {} }), InvalidArgumentError);
  }
});

Deno.test("buildMounts() binds an image volume read-only, nosuid, nodev, whatever was asked", () => {
  const m: Mount = {
    containerPath: "/data",
    hostPath: "/run/c/volumes/0",
    image: { image: "sha256:abc" },
    readonly: false,
    propagation: P.PROPAGATION_BIDIRECTIONAL,
  };
  const built = buildMounts({ ...base, criMounts: [m] });
  assertEquals(built.mounts.find((x) => x.destination === "/data"), {
    destination: "/data",
    type: "bind",
    source: "/run/c/volumes/0",
    options: ["rbind", "rprivate", "ro", "nosuid", "nodev"],
  });
  assertEquals(built.volumes[0].readonly, true);
  assertEquals(built.rootfsPropagation, undefined, "an image volume never makes the rootfs shared");
});
