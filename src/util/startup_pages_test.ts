import { assert, assertEquals } from "../testing/asserts.ts";
import { readKernelFile } from "./libc_io.ts";
import {
  dropExecutablePages,
  droppableMappings,
  type PageHost,
  parseSmaps,
} from "./startup_pages.ts";

const EXE = "/opt/deno/deno";

/** One smaps entry; only the fields the parser reads, among the kernel's others. */
function entry(range: string, perms: string, path: string, rss: number, anon: number): string {
  return [
    `${range} ${perms} 00000000 fd:01 1234${path ? `                      ${path}` : ""}`,
    `Size:               9999 kB`,
    `Rss:                ${rss} kB`,
    `Pss:                ${rss} kB`,
    `Anonymous:          ${anon} kB`,
    `VmFlags: rd mr mw me`,
  ].join("\n");
}

const SMAPS = [
  entry("55d000000000-55d000400000", "r--p", EXE, 3000, 0), // rodata: dropped
  entry("55d000400000-55d002000000", "r-xp", EXE, 20000, 0), // text: dropped
  entry("55d002000000-55d002100000", "r--p", EXE, 900, 900), // relro, written: kept
  entry("55d002100000-55d002200000", "rw-p", EXE, 600, 100), // data: kept
  entry("55d002200000-55d002300000", "r--p", EXE, 0, 0), // nothing resident: skipped
  entry("7f0000000000-7f0000100000", "r-xp", "/usr/lib/libc.so.6", 800, 0), // not the exe
  entry("7f0000200000-7f0000300000", "r--s", EXE, 50, 0), // shared: kept
  entry("7f0000400000-7f0000500000", "rw-p", "", 4000, 4000), // anonymous memory
].join("\n");

Deno.test("parseSmaps() reads each mapping's range, permissions, path and sizes", () => {
  const maps = parseSmaps(SMAPS);
  assertEquals(maps.length, 8);
  assertEquals(maps[0], {
    start: 0x55d000000000n,
    end: 0x55d000400000n,
    perms: "r--p",
    path: EXE,
    rssKiB: 3000,
    anonKiB: 0,
  });
  assertEquals(maps[7].path, "");
});

Deno.test("only the executable's resident read-only private mappings that were never written", () => {
  const picked = droppableMappings(parseSmaps(SMAPS), EXE).map((m) => m.start);
  assertEquals(picked, [0x55d000000000n, 0x55d000400000n]);
});

Deno.test("dropExecutablePages() advises those ranges and adds up what the kernel took", () => {
  const calls: [bigint, bigint][] = [];
  const host: PageHost = {
    smaps: () => SMAPS,
    executable: () => EXE,
    dontNeed: (start, length) => (calls.push([start, length]), start !== 0x55d000000000n),
  };
  assertEquals(dropExecutablePages(host), 20000, "a refused range does not count");
  assertEquals(calls, [[0x55d000000000n, 0x400000n], [0x55d000400000n, 0x1c00000n]]);
  assertEquals(dropExecutablePages({ ...host, executable: () => undefined }), 0);
  assertEquals(dropExecutablePages({ ...host, smaps: () => undefined }), 0);
});

function rssFileKiB(): number {
  const status = readKernelFile("/proc/self/status") ?? "";
  return parseInt(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? "0", 10);
}

Deno.test("this process drops its executable's clean pages and keeps running", async () => {
  const before = rssFileKiB();
  const kib = dropExecutablePages();
  const after = rssFileKiB();
  assert(kib > 1024, `only ${kib} KiB of the executable were resident`);
  // What runs between the two reads (this test, the read itself) maps some pages back.
  assert(before - after > kib / 4, `RssFile ${before} -> ${after} KiB after dropping ${kib}`);
  // Code and data of the binary come back from the page cache as they are used.
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("still here"));
  assertEquals(new Uint8Array(digest).length, 32);
  assertEquals(JSON.parse(JSON.stringify({ a: [1, 2] })), { a: [1, 2] });
});
