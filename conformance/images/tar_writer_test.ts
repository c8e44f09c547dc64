import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert";
import { normalizePath, type TarEntry, writeTar } from "./tar_writer.ts";

const TAR = "/usr/bin/tar";
const longDir = `${"d".repeat(120)}/${"e".repeat(120)}`;
const longFile = `${longDir}/${"f".repeat(200)}.txt`;

const entries: TarEntry[] = [
  { type: "dir", path: "/etc/", mode: 0o755 },
  { type: "file", path: "etc/passwd", data: "root:x:0:0:root:/root:/bin/sh\n" },
  { type: "dir", path: "with space", mode: 0o700, uid: 12, gid: 34 },
  { type: "file", path: "./with space/file name.txt", data: "spaces\n", mtime: 1_700_000_000 },
  { type: "dir", path: "ünïcødé" },
  { type: "file", path: "ünïcødé/文件.txt", data: "utf-8\n", mode: 0o600 },
  { type: "file", path: "line\nbreak", data: "" },
  { type: "file", path: "x".repeat(99), data: "99" },
  { type: "file", path: "y".repeat(100), data: "100" },
  { type: "dir", path: "d".repeat(120) },
  { type: "dir", path: longDir },
  { type: "file", path: longFile, data: "long\n".repeat(300), mode: 0o4755 },
  { type: "hardlink", path: "hard", target: `/${longFile}` },
  { type: "symlink", path: "sym", target: `/${longFile}` },
  { type: "symlink", path: "rel", target: "etc/passwd" },
  { type: "file", path: "big-ids", data: "ids", uid: 3_000_000, gid: 4_000_000 },
  { type: "file", path: "named", data: "n", uname: "n".repeat(40), gname: "g" },
];

async function run(args: string[], stdin?: Uint8Array<ArrayBuffer>): Promise<string> {
  const child = new Deno.Command(TAR, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, `tar ${args.join(" ")} failed: ${stderr}`);
  assertEquals(stderr, "", "tar must not warn about the archive");
  return new TextDecoder().decode(out.stdout);
}

Deno.test("tar lists every entry, blocks are 512-aligned", async () => {
  const tar = writeTar(entries);
  assertEquals(tar.length % 512, 0);
  const listed = (await run(["-tf", "-"], tar)).trimEnd().split("\n");
  assertEquals(listed.length, entries.length);
  assert(listed.includes(`${longFile}`), "long name must come back whole via PAX");
  assert(listed.includes("ünïcødé/文件.txt"));
  assert(listed.includes("line\\nbreak"), "GNU tar escapes the newline it read back");
});

Deno.test("extracted tree matches modes, owners, times, links and contents", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tar-writer-test-" });
  try {
    await run(["-xpf", "-", "-C", dir, "--numeric-owner", "--same-owner"], writeTar(entries));
    const text = (p: string) => Deno.readTextFile(`${dir}/${p}`);
    assertEquals(await text("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    assertEquals(await text("with space/file name.txt"), "spaces\n");
    assertEquals(await text("ünïcødé/文件.txt"), "utf-8\n");
    assertEquals(await text("line\nbreak"), "");
    assertEquals(await text("x".repeat(99)), "99");
    assertEquals(await text("y".repeat(100)), "100");
    assertEquals(await text(longFile), "long\n".repeat(300));

    const spaced = await Deno.lstat(`${dir}/with space`);
    assertEquals([spaced.mode! & 0o7777, spaced.uid, spaced.gid], [0o700, 12, 34]);
    const timed = await Deno.lstat(`${dir}/with space/file name.txt`);
    assertEquals(timed.mtime?.getTime(), 1_700_000_000_000);
    const long = await Deno.lstat(`${dir}/${longFile}`);
    assertEquals(long.mode! & 0o7777, 0o4755);
    assertEquals((await Deno.lstat(`${dir}/ünïcødé/文件.txt`)).mode! & 0o777, 0o600);
    const ids = await Deno.lstat(`${dir}/big-ids`);
    assertEquals([ids.uid, ids.gid], [3_000_000, 4_000_000]);

    assertEquals((await Deno.lstat(`${dir}/hard`)).ino, long.ino);
    assertEquals(await Deno.readLink(`${dir}/sym`), `/${longFile}`);
    assertEquals(await Deno.readLink(`${dir}/rel`), "etc/passwd");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verbose listing keeps long user names and numeric ids", async () => {
  const listing = await run(["-tvf", "-"], writeTar(entries));
  assert(listing.includes(`${"n".repeat(40)}/g`), listing);
  assert(listing.includes("3000000/4000000"), listing);
  assert(/^-rwsr-xr-x /m.test(listing), "setuid bit must survive");
  assert(/^h.* hard link to /m.test(listing), listing);
});

Deno.test("same entries give the same bytes", () => {
  assertEquals(writeTar(entries), writeTar(entries));
});

Deno.test("paths are normalized and unsafe ones rejected", () => {
  assertEquals(normalizePath("/a/b/"), "a/b");
  assertEquals(normalizePath("./a"), "a");
  assertEquals(normalizePath(".//./a"), "a");
  assertThrows(() => normalizePath("/"));
  assertThrows(() => normalizePath("a/../../b"));
  assertThrows(() => normalizePath("a\0b"));
  assertThrows(() => writeTar([{ type: "symlink", path: "s", target: "" }]));
});

Deno.test("a hard link's header carries its target's mode, as GNU tar writes it", async () => {
  const tar = writeTar([
    { type: "file", path: "bin/busybox", mode: 0o755, data: "binary" },
    { type: "hardlink", path: "bin/sleep", target: "bin/busybox" },
    { type: "hardlink", path: "bin/odd", target: "bin/busybox", mode: 0o700 },
  ]);
  const lines = (await run(["-tvf", "-"], tar)).trimEnd().split("\n");
  const mode = (name: string) => lines.find((l) => l.includes(` ${name}`))?.split(" ")[0];
  assertEquals(mode("bin/sleep link to"), "hrwxr-xr-x");
  assertEquals(mode("bin/odd link to"), "hrwx------");
});
