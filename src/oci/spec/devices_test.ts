import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import {
  buildDevices,
  checkPermissions,
  type HostDevice,
  majorMinor,
  parseDeviceSpec,
} from "./devices.ts";

const fuse: HostDevice = {
  path: "/dev/fuse",
  type: "c",
  major: 10,
  minor: 229,
  fileMode: 0o20666,
  uid: 0,
  gid: 0,
  access: "rw",
};
const sda: HostDevice = {
  path: "/dev/sda",
  type: "b",
  major: 8,
  minor: 0,
  fileMode: 0o60660,
  uid: 0,
  gid: 6,
  access: "rwm",
};

Deno.test("buildDevices() denies by default and allows what is listed", () => {
  const r = buildDevices({ devices: [fuse], privileged: false, hostDevices: [sda] });
  assertEquals(r.devices.map((d) => d.path), ["/dev/fuse"]);
  assertEquals(r.rules, [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 10, minor: 229, access: "rw" },
  ]);
  const p = buildDevices({
    devices: [fuse],
    privileged: true,
    hostDevices: [sda, { ...fuse, access: "rwm" }],
  });
  assertEquals(p.devices.map((d) => d.path), ["/dev/sda", "/dev/fuse"]);
  assertEquals(p.rules, [{ allow: false, access: "rwm" }, { allow: true, access: "rwm" }]);
});

Deno.test("majorMinor() decodes dev_t, parseDeviceSpec() reads additional_devices", () => {
  // glibc's makedev, in BigInt to reach the high bits.
  const makedev = (major: number, minor: number) => {
    const [M, m] = [BigInt(major), BigInt(minor)];
    return Number(
      (m & 0xffn) | ((M & 0xfffn) << 8n) | ((m & ~0xffn) << 12n) | ((M & ~0xfffn) << 32n),
    );
  };
  for (const [major, minor] of [[8, 1], [10, 229], [1, 0x1005], [0x1234, 0xabcde], [0, 0]]) {
    assertEquals(majorMinor(makedev(major, minor)), { major, minor });
  }
  assertEquals(parseDeviceSpec("/dev/fuse"), {
    hostPath: "/dev/fuse",
    containerPath: "/dev/fuse",
    access: "rwm",
  });
  assertEquals(parseDeviceSpec("/dev/sdc:/dev/xvdc:r"), {
    hostPath: "/dev/sdc",
    containerPath: "/dev/xvdc",
    access: "r",
  });
  assertThrows(() => parseDeviceSpec("dev/x"), InvalidArgumentError);
  for (const bad of ["rwx", "rr", "q"]) {
    assertThrows(() => checkPermissions(bad, "d"), InvalidArgumentError);
  }
});
