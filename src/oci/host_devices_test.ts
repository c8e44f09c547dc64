import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { InvalidArgumentError } from "../errors.ts";
import { listHostDevices, parseStatLine, resolveHostDevice } from "./host_devices.ts";

Deno.test("resolveHostDevice() reads type, major and minor from the node", async () => {
  const [nul] = await resolveHostDevice({
    hostPath: "/dev/null",
    containerPath: "/dev/xnull",
    permissions: "rw",
  });
  assertEquals([nul.path, nul.type, nul.major, nul.minor, nul.access], [
    "/dev/xnull",
    "c",
    1,
    3,
    "rw",
  ]);
  const cases: [Parameters<typeof resolveHostDevice>[0], string][] = [
    [{ hostPath: "/etc/hostname", containerPath: "/dev/x" }, "not a device"],
    [{ hostPath: "/dev/no-such-device", containerPath: "/dev/x" }, "does not exist"],
    [{ hostPath: "/dev/null", containerPath: "x" }, "absolute"],
    [{ hostPath: "/dev/null", containerPath: "/dev/x", permissions: "rwx" }, "permissions"],
  ];
  for (const [d, msg] of cases) {
    await assertRejects(() => resolveHostDevice(d), InvalidArgumentError, msg);
  }
});

Deno.test("listHostDevices() finds the host's nodes and skips pts, shm and symlinks", async () => {
  const devs = await listHostDevices();
  const paths = new Set(devs.map((d) => d.path));
  assert(paths.has("/dev/null") && paths.has("/dev/zero"));
  assert(
    ![...paths].some((p) => p.startsWith("/dev/pts/") || p === "/dev/console" || p === "/dev/fd"),
  );
});

Deno.test("parseStatLine() reads stat(1) output, hex majors and all", () => {
  assertEquals(parseStatLine("/dev/fuse|character special file|a|e5|666|0|0"), {
    path: "/dev/fuse",
    type: "c",
    major: 10,
    minor: 229,
    mode: 0o666,
    uid: 0,
    gid: 0,
  });
  assertEquals(
    parseStatLine("/dev/odd|name|block special file|8|0|660|0|6")?.path,
    "/dev/odd|name",
  );
  assertEquals(parseStatLine("/dev|directory|0|0|755|0|0")?.type, "d");
  assertEquals(parseStatLine("nonsense"), undefined);
});
