import { assertEquals, assertRejects, assertThrows } from "../testing/asserts.ts";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import { MountPropagation as P } from "../cri/gen/api.ts";
import { checkPropagation, parseMountinfo, prepareCriMounts, sourceMount } from "./host_mounts.ts";

const MOUNTINFO = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "30 22 0:25 / /run rw,nosuid - tmpfs tmpfs rw",
  "31 22 0:26 / /var/lib/kubelet rw master:7 - ext4 /dev/sdb rw",
  "32 22 0:27 / /mnt/with\\040space rw shared:9 - tmpfs t rw",
].join("\n");

Deno.test("parseMountinfo() and sourceMount() find the mount a path is on", () => {
  const m = parseMountinfo(MOUNTINFO);
  assertEquals(m.map((x) => x.mountPoint), ["/", "/run", "/var/lib/kubelet", "/mnt/with space"]);
  const cases: [string, string][] = [
    ["/run/x", "/run"],
    ["/running", "/"],
    ["/var/lib/kubelet/pods", "/var/lib/kubelet"],
    ["/mnt/with space/a", "/mnt/with space"],
  ];
  for (const [path, want] of cases) assertEquals(sourceMount(path, m)?.mountPoint, want, path);
});

Deno.test("checkPropagation() needs shared for rshared and shared or slave for rslave", () => {
  const m = parseMountinfo(MOUNTINFO);
  const ok: [string, P][] = [
    ["/data", P.PROPAGATION_BIDIRECTIONAL],
    ["/data", P.PROPAGATION_HOST_TO_CONTAINER],
    ["/var/lib/kubelet/x", P.PROPAGATION_HOST_TO_CONTAINER],
    ["/run/x", P.PROPAGATION_PRIVATE],
  ];
  for (const [path, p] of ok) checkPropagation(path, { propagation: p, mounts: m });
  const bad: [string, P, string][] = [
    ["/run/x", P.PROPAGATION_BIDIRECTIONAL, "not a shared mount"],
    ["/run/x", P.PROPAGATION_HOST_TO_CONTAINER, "shared or slave"],
    ["/var/lib/kubelet/x", P.PROPAGATION_BIDIRECTIONAL, "not a shared mount"],
  ];
  for (const [path, p, msg] of bad) {
    assertThrows(
      () => checkPropagation(path, { propagation: p, mounts: m }),
      FailedPreconditionError,
      msg,
    );
  }
});

Deno.test("prepareCriMounts() resolves symlinks, creates missing sources, honours the reject list", async () => {
  const dir = await Deno.makeTempDir({ prefix: "host-mounts-" });
  try {
    await Deno.mkdir(`${dir}/real`);
    await Deno.symlink(`${dir}/real`, `${dir}/link`);
    const out = await prepareCriMounts([
      { containerPath: "/a", hostPath: `${dir}/link` },
      { containerPath: "/b", hostPath: `${dir}/new/dir` },
      {
        containerPath: "/c",
        hostPath: `${dir}/real`,
        propagation: P.PROPAGATION_HOST_TO_CONTAINER,
      },
    ], { mountinfo: `1 0 0:1 / / rw shared:1 - ext4 x rw` });
    assertEquals(out.map((m) => m.hostPath), [`${dir}/real`, `${dir}/new/dir`, `${dir}/real`]);
    assertEquals((await Deno.stat(`${dir}/new/dir`)).isDirectory, true);
    await assertRejects(
      () =>
        prepareCriMounts([{ containerPath: "/h", hostPath: `${dir}/hostname` }], {
          absentSourcesToReject: [`${dir}/hostname`],
        }),
      FailedPreconditionError,
    );
    await assertRejects(
      () => prepareCriMounts([{ containerPath: "/r", hostPath: "rel" }]),
      InvalidArgumentError,
    );
    await assertRejects(
      () =>
        prepareCriMounts([{
          containerPath: "/s",
          hostPath: dir,
          propagation: P.PROPAGATION_BIDIRECTIONAL,
        }], { mountinfo: "1 0 0:1 / / rw - ext4 x rw" }),
      FailedPreconditionError,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
