import { assert, assertEquals, assertThrows } from "../testing/asserts.ts";
import {
  countDirEntries,
  libcPath,
  listDirNames,
  mountFs,
  MS_NODEV,
  MS_NOSUID,
  readKernelFile,
  readSmallFile,
  signalProcess,
  unmount,
} from "./libc_io.ts";
import { hostMountPoints, parseMountinfo } from "./mountinfo.ts";

const isRoot = Deno.uid() === 0;

Deno.test("readKernelFile reads /proc files to their end; a missing one is undefined", () => {
  const status = readKernelFile(`/proc/${Deno.pid}/status`);
  assert(status?.includes(`Pid:\t${Deno.pid}`), "own status names own pid");
  assertEquals(readKernelFile("/proc/self/no-such-file"), undefined);
  assertEquals(readKernelFile("/nonexistent-dir/file"), undefined);
  // A large generated file (hundreds of lines) comes back whole, not one read's worth.
  const maps = readKernelFile(`/proc/${Deno.pid}/smaps`)!;
  assert(maps.length > 64 << 10, `smaps is ${maps.length} bytes`);
  assert(maps.endsWith("\n"));
});

Deno.test("countDirEntries and listDirNames read a directory without . and ..", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(countDirEntries(dir), 0);
    // More names than one getdents64 buffer holds, and names that start with dots.
    for (let i = 0; i < 3000; i++) await Deno.writeTextFile(`${dir}/${"f".repeat(40)}${i}`, "");
    await Deno.writeTextFile(`${dir}/.hidden`, "");
    await Deno.writeTextFile(`${dir}/..x`, "");
    assertEquals(countDirEntries(dir), 3002);
    const names = listDirNames(dir)!;
    assertEquals(names.length, 3002);
    assert(
      names.includes(".hidden") && names.includes("..x") && names.includes(`${"f".repeat(40)}2999`),
    );
    assertEquals(listDirNames(`${dir}/missing`), undefined);
    assertEquals(countDirEntries(`${dir}/missing`), undefined);
    assertEquals(countDirEntries(`${dir}/.hidden`), undefined, "a file is no directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // The fds this process has open, as /proc lists them: at least stdin, stdout and stderr.
  const fds = countDirEntries("/proc/self/fd")!;
  assert(fds >= 3, `${fds} fds`);
});

Deno.test("readSmallFile reads up to its bound; a missing file is undefined, not an error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/pid`, "12345\n");
    const dec = (b?: Uint8Array) => b === undefined ? undefined : new TextDecoder().decode(b);
    assertEquals(dec(readSmallFile(`${dir}/pid`, 64)), "12345\n");
    assertEquals(dec(readSmallFile(`${dir}/pid`, 3)), "123");
    assertEquals(readSmallFile(`${dir}/missing`, 64), undefined);
    assertEquals(readSmallFile(`${dir}/pid/below-a-file`, 64), undefined);
    await Deno.writeTextFile(`${dir}/empty`, "");
    assertEquals(readSmallFile(`${dir}/empty`, 64)?.length, 0);
    const big = "x".repeat(10_000);
    await Deno.writeTextFile(`${dir}/big`, big);
    assertEquals(dec(readSmallFile(`${dir}/big`, 8192)), big.slice(0, 8192));
    assertThrows(() => readSmallFile(dir, 64), Error, "read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseMountinfo unescapes mount points and keeps optional fields", () => {
  const m = parseMountinfo(
    "36 35 98:0 /mnt1 /mnt\\040with\\040space rw,noatime master:1 shared:2 - ext3 /dev/x rw\n" +
      "bad line\n",
  );
  assertEquals(m, [{ mountPoint: "/mnt with space", optional: "master:1 shared:2" }]);
});

Deno.test({
  name: "mountFs and unmount: a tmpfs comes and goes; unmount of a plain dir is false",
  ignore: !isRoot,
  fn: async () => {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "libc-io-" }));
    try {
      assertEquals(unmount(dir), false);
      mountFs(dir, { type: "tmpfs", source: "shm", flags: MS_NOSUID | MS_NODEV, data: "size=1m" });
      assert((await hostMountPoints()).has(dir));
      assertThrows(() => mountFs(`${dir}/missing`, { type: "tmpfs" }), Error, "ENOENT");
      assertEquals(unmount(dir, { detach: true }), true);
      assert(!(await hostMountPoints()).has(dir));
      assertEquals(unmount(dir), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("signalProcess signals a live process, is false once it is gone, refuses pid <= 0", async () => {
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  assertEquals(signalProcess(child.pid, "SIGTERM"), true);
  assertEquals((await child.status).signal, "SIGTERM");
  assertEquals(signalProcess(child.pid, "SIGTERM"), false);
  assertThrows(() => signalProcess(0, "SIGKILL"), Error, "refusing");
  assertThrows(() => signalProcess(-1, "SIGKILL"), Error, "refusing");
  assertThrows(() => signalProcess(child.pid, "SIGNOPE"), Error, "unknown signal");
});

Deno.test("failed calls name their errno under the daemon's libc-scoped --allow-ffi", async () => {
  // The daemon's FFI permission names libc's path only; anything that needs an unscoped one
  // (UnsafePointerView) fails there and nowhere else.
  const code = `import { unmount, readKernelFile } from ${
    JSON.stringify(import.meta.resolve("./libc_io.ts"))
  };
console.log(JSON.stringify([unmount("/"+"nonexistent-dir"), readKernelFile("/proc/no-such")]));
try { unmount("/"); } catch (e) { console.log(String(e)); }`;
  // `deno eval` grants everything: a file run with the daemon's flags is the real test.
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(file, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--no-prompt", "--allow-read", `--allow-ffi=${libcPath()}`, file],
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(file));
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  assert(text.startsWith("[false,null]"), text);
  // Unmounting / is refused (EBUSY, or EPERM without CAP_SYS_ADMIN): named, not a crash.
  assert(/umount \/: E[A-Z]+/.test(text), text);
});
