import { assertEquals, assertRejects } from "../testing/asserts.ts";
import { InvalidArgumentError } from "../errors.ts";
import { defaultConfig } from "../config/options.ts";
import { SecurityProfile_ProfileType } from "../cri/gen/api.ts";
import { busyboxRootfs } from "../testing/busybox_rootfs.ts";
import { resolveHostInputs } from "./spec_inputs.ts";

Deno.test("resolveHostInputs() reads the user, devices, mounts and profiles the spec needs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spec-inputs-" });
  try {
    const rootfs = await busyboxRootfs(dir);
    await Deno.writeTextFile(`${dir}/profile.json`, '{"defaultAction":"SCMP_ACT_ALLOW"}');
    const config = defaultConfig();
    config.runtime.additional_devices = ["/dev/null:/dev/extra-null:rw"];
    const r = await resolveHostInputs({
      config: {
        mounts: [{ containerPath: "/data", hostPath: `${dir}/data` }],
        devices: [{ hostPath: "/dev/zero", containerPath: "/dev/z", permissions: "r" }],
        linux: {
          securityContext: {
            runAsUsername: "user",
            seccomp: {
              profileType: SecurityProfile_ProfileType.Localhost,
              localhostRef: `${dir}/profile.json`,
            },
          },
        },
      },
      image: { User: "nobody" },
      rootfs,
    }, { config, privilegedWithoutHostDevices: false });
    assertEquals(r.user, {
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 50000],
      home: "/home/user",
    });
    assertEquals(r.criMounts[0].hostPath, `${dir}/data`);
    assertEquals(r.devices.map((d) => [d.path, d.access]), [["/dev/extra-null", "rw"], [
      "/dev/z",
      "r",
    ]]);
    assertEquals(r.hostDevices, undefined);
    assertEquals(r.seccompText, { localhost: '{"defaultAction":"SCMP_ACT_ALLOW"}' });
    await assertRejects(
      () =>
        resolveHostInputs({
          config: {
            linux: {
              securityContext: {
                seccomp: {
                  profileType: SecurityProfile_ProfileType.Localhost,
                  localhostRef: `${dir}/none.json`,
                },
              },
            },
          },
          image: {},
          rootfs,
        }, { config, privilegedWithoutHostDevices: false }),
      InvalidArgumentError,
      "cannot be read",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
