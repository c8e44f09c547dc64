import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { type RawEntry, rawTar, streamOf } from "../testing/raw_tar.ts";
import { digestOf } from "../image/digest.ts";
import { InvalidArgumentError, ResourceExhaustedError } from "../errors.ts";
import { LayerEntryError } from "./layer_extract.ts";
import { lgetxattr } from "./libc.ts";
import { unpackLayer } from "./layer_stream.ts";
import { TarFormatError } from "./tar_reader.ts";
import { zstdCompressSync } from "node:zlib";

const isRoot = Deno.uid() === 0;

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const s = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(s).arrayBuffer());
}

async function unpack(entries: RawEntry[], dir: string, compress = false) {
  const tar = rawTar(entries);
  const blob = compress ? await gzip(tar) : tar;
  return await unpackLayer(streamOf(blob), {
    dir,
    blob: {
      digest: digestOf(blob),
      size: blob.length,
      diffId: digestOf(tar),
      mediaType: compress
        ? "application/vnd.oci.image.layer.v1.tar+gzip"
        : "application/vnd.oci.image.layer.v1.tar",
    },
  });
}

async function withDirs(fn: (dir: string, outside: string) => Promise<void>) {
  const base = await Deno.makeTempDir({ prefix: "layer-test-" });
  await Deno.mkdir(`${base}/layer`);
  await Deno.mkdir(`${base}/outside`);
  try {
    await fn(`${base}/layer`, `${base}/outside`);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function entriesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test({
  name: "extraction keeps owner, mode, times, links, devices, xattrs and whiteouts",
  ignore: !isRoot,
  fn: () =>
    withDirs(async (dir) => {
      await unpack(
        [
          { name: "bin/", flag: "5", mode: 0o755, mtime: 1234 },
          { name: "bin/su", data: "x", mode: 0o4755, uid: 5, gid: 6, mtime: 99 },
          { name: "tmp/", flag: "5", mode: 0o1777 },
          { name: "bin/sh", flag: "2", linkname: "/bin/busybox", uid: 7 },
          { name: "bin/su2", flag: "1", linkname: "/bin/su" },
          { name: "dev/fifo", flag: "6", mode: 0o600 },
          { name: "dev/null", flag: "3", devmajor: 1, devminor: 3, mode: 0o666 },
          { name: "etc/.wh.gone", data: "" },
          { name: "opt/.wh..wh..opq", data: "" },
          {
            name: "bin/ping",
            data: "p",
            mode: 0o755,
            pax: {
              "SCHILY.xattr.security.capability": "\x01\x00\x00\x02\x00\x20" + "\x00".repeat(14),
              "SCHILY.xattr.trusted.overlay.redirect": "/etc",
            },
          },
        ],
        dir,
        true,
      );
      const su = await Deno.lstat(`${dir}/bin/su`);
      assertEquals([su.mode! & 0o7777, su.uid, su.gid, su.mtime!.getTime()], [0o4755, 5, 6, 99000]);
      assertEquals((await Deno.lstat(`${dir}/tmp`)).mode! & 0o7777, 0o1777);
      assertEquals((await Deno.lstat(`${dir}/bin`)).mtime!.getTime(), 1234000);
      assertEquals(await Deno.readLink(`${dir}/bin/sh`), "/bin/busybox");
      assertEquals((await Deno.lstat(`${dir}/bin/sh`)).uid, 7);
      assertEquals((await Deno.lstat(`${dir}/bin/su2`)).ino, su.ino);
      assert((await Deno.lstat(`${dir}/dev/fifo`)).isFifo);
      const nul = await Deno.lstat(`${dir}/dev/null`);
      assert(nul.isCharDevice && nul.rdev === 0x103);
      const wh = await Deno.lstat(`${dir}/etc/gone`);
      assert(wh.isCharDevice && wh.rdev === 0);
      assertEquals(
        lgetxattr(`${dir}/opt`, "trusted.overlay.opaque"),
        new TextEncoder().encode("y"),
      );
      assertEquals(lgetxattr(`${dir}/bin/ping`, "security.capability")?.length, 20);
      assertEquals(lgetxattr(`${dir}/bin/ping`, "trusted.overlay.redirect"), undefined);
    }),
});

const HOSTILE: [string, RawEntry[], string][] = [
  ["dot-dot", [{ name: "../x", data: "x" }], "escapes"],
  ["nested dot-dot", [{ name: "a/../../x", data: "x" }], "escapes"],
  ["absolute", [{ name: "/abs/x", data: "x" }], "absolute"],
  ["write through symlink", [
    { name: "l", flag: "2", linkname: "OUTSIDE" },
    { name: "l/f", data: "x" },
  ], "symlink"],
  ["hard link through symlink", [
    { name: "l", flag: "2", linkname: "OUTSIDE" },
    { name: "h", flag: "1", linkname: "l/victim" },
  ], "symlink"],
  ["hard link outside", [{ name: "h", flag: "1", linkname: "../../etc/shadow" }], "escapes"],
  ["hard link /..", [{ name: "h", flag: "1", linkname: "/../etc/shadow" }], "escapes"],
  ["hard link missing", [{ name: "h", flag: "1", linkname: "etc/shadow" }], "does not exist"],
  [
    "hard link to missing file",
    [{ name: "h", flag: "1", linkname: "shadow" }],
    "not in this layer",
  ],
  ["bare whiteout", [{ name: ".wh.", data: "" }], "whiteout"],
  ["whiteout dot-dot", [{ name: "a/.wh...", data: "" }], "whiteout"],
  ["whiteout escaping", [{ name: "../.wh.x", data: "" }], "escapes"],
  ["dir replaced by symlink", [
    { name: "d/", flag: "5" },
    { name: "d", flag: "2", linkname: "OUTSIDE" },
    { name: "d/f", data: "x" },
  ], "symlink"],
];

for (const [what, entries, why] of HOSTILE) {
  Deno.test({
    name: `hostile layer refused: ${what}`,
    ignore: !isRoot,
    fn: () =>
      withDirs(async (dir, outside) => {
        const fixed = entries.map((e) => ({
          ...e,
          linkname: e.linkname?.replace("OUTSIDE", outside),
        }));
        await assertRejects(() => unpack(fixed, dir), LayerEntryError, why);
        assertEquals(await entriesIn(outside), [], "nothing written outside");
      }),
  });
}

Deno.test({
  name: "chmod/chown/utimes never reach a symlink's target",
  ignore: !isRoot,
  fn: () =>
    withDirs(async (dir, outside) => {
      await Deno.writeTextFile(`${outside}/victim`, "v");
      await Deno.chmod(`${outside}/victim`, 0o600);
      const before = await Deno.stat(`${outside}/victim`);
      await unpack([
        { name: "l", flag: "2", linkname: `${outside}/victim` },
        { name: "l", flag: "2", linkname: `${outside}/victim`, mode: 0o777, uid: 99, mtime: 5 },
      ], dir);
      const after = await Deno.stat(`${outside}/victim`);
      assertEquals([after.mode, after.uid, after.mtime?.getTime()], [
        before.mode,
        before.uid,
        before.mtime?.getTime(),
      ]);
    }),
});

Deno.test("tar caps: huge PAX header, sparse files, digest mismatch", async () => {
  await withDirs(async (dir) => {
    const big = "x".repeat((1 << 20) + 10);
    await assertRejects(
      () => unpack([{ name: "f", data: "", pax: { comment: big } }], dir),
      TarFormatError,
      "cap",
    );
    await assertRejects(
      () => unpack([{ name: "f", data: "", pax: { "GNU.sparse.map": "0,1" } }], dir),
      TarFormatError,
      "sparse",
    );
    const tar = rawTar([{ name: "f", data: "x" }]);
    await assertRejects(
      () =>
        unpackLayer(streamOf(tar), {
          dir,
          blob: {
            digest: digestOf("other"),
            size: tar.length,
            diffId: digestOf(tar),
            mediaType: "application/vnd.oci.image.layer.v1.tar",
          },
        }),
      Error,
      "digest mismatch",
    );
  });
});

Deno.test("decompression bombs are stopped by the ratio cap", async () => {
  await withDirs(async (dir) => {
    const zeros = new Uint8Array(8 << 20);
    const tar = rawTar([{ name: "z", data: zeros }]);
    const gz = await gzip(tar);
    await assertRejects(
      () =>
        unpackLayer(streamOf(gz, 1 << 16), {
          dir,
          limits: { maxBytes: 1 << 30, maxRatio: 50, ratioFloor: 1 << 20 },
          blob: {
            digest: digestOf(gz),
            size: gz.length,
            diffId: digestOf(tar),
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          },
        }),
      ResourceExhaustedError,
      "bomb",
    );
  });
});

Deno.test("a corrupt gzip layer is refused with an error that names gzip", async () => {
  await withDirs(async (dir) => {
    const tar = rawTar([{ name: "f", data: new Uint8Array(64 << 10).fill(7) }]);
    const gz = await gzip(tar);
    // The deflate stream's first block header, flipped: not a valid block type.
    gz[10] ^= 0xff;
    await assertRejects(
      () =>
        unpackLayer(streamOf(gz, 1 << 12), {
          dir,
          blob: {
            digest: digestOf(gz),
            size: gz.length,
            diffId: digestOf(tar),
            mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
          },
        }),
      InvalidArgumentError,
      "gzip layer",
    );
  });
});

Deno.test({
  name: "zstd layers are decompressed natively and verified",
  ignore: !isRoot,
  fn: () =>
    withDirs(async (dir) => {
      const tar = rawTar([{ name: "z/file", data: "zstd!" }]);
      const zst = new Uint8Array(zstdCompressSync(tar));
      await unpackLayer(streamOf(zst), {
        dir,
        blob: {
          digest: digestOf(zst),
          size: zst.length,
          diffId: digestOf(tar),
          mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
        },
      });
      assertEquals(await Deno.readTextFile(`${dir}/z/file`), "zstd!");
    }),
});

Deno.test("a zstd bomb is cancelled cleanly: error, no stray enqueue after the cap", async () => {
  await withDirs(async (dir) => {
    const tar = rawTar([{ name: "z", data: new Uint8Array(16 << 20) }]);
    const zst = new Uint8Array(zstdCompressSync(tar));
    await assertRejects(
      () =>
        unpackLayer(streamOf(zst, 1 << 12), {
          dir,
          limits: { maxBytes: 1 << 30, maxRatio: 50, ratioFloor: 1 << 20 },
          blob: {
            digest: digestOf(zst),
            size: zst.length,
            diffId: digestOf(tar),
            mediaType: "application/vnd.oci.image.layer.v1.tar+zstd",
          },
        }),
      ResourceExhaustedError,
      "bomb",
    );
    // An enqueue into the errored stream would surface as an uncaught error here.
    await new Promise((r) => setTimeout(r, 100));
  });
});

Deno.test("file bodies split across odd chunk boundaries land byte for byte", () =>
  withDirs(async (dir) => {
    // 700-byte chunks put every body at an offset inside a shared buffer: the fd writes must
    // honour the view's offset and length, not the whole buffer.
    const data = new Uint8Array(100_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + (i >> 8)) & 0xff;
    await unpack([
      { name: "a/", flag: "5", mode: 0o755 },
      { name: "a/big", data, mode: 0o640 },
      { name: "a/small", data: "hello", mode: 0o600 },
    ], dir);
    assertEquals(await Deno.readFile(`${dir}/a/big`), data);
    assertEquals(await Deno.readTextFile(`${dir}/a/small`), "hello");
    assertEquals((await Deno.stat(`${dir}/a/big`)).mode! & 0o777, 0o640);
  }));
