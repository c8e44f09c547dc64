/**
 * Hands back the pages of Deno's executable that only start-up read. Start-up faults in ~43 MiB
 * of the binary's code and read-only data, and those clean file pages stay in the resident set
 * for the process's life; a daemon serving calls again touches ~24 MiB (measured on the bench's
 * fresh start). madvise(MADV_DONTNEED) on a read-only private mapping drops the daemon's
 * references; the pages stay in the page cache, and a page used again is mapped back by a minor
 * fault from there.
 *
 * Only mappings that no write ever reached are touched: a private mapping's written page
 * (relocated data, made read-only afterwards) is anonymous memory, and MADV_DONTNEED would
 * replace it with the file's bytes. smaps reports such pages per mapping ("Anonymous"), and a
 * mapping with any is left alone.
 */
import { cstr, lazyLibrary, libcPath, readKernelFile } from "./libc_io.ts";

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rssKiB: number;
  anonKiB: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/;

/** The mappings of a /proc/PID/smaps text, with their resident and anonymous sizes. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split("\n")) {
    const h = HEADER.exec(line);
    if (h) {
      cur = {
        start: BigInt(`0x${h[1]}`),
        end: BigInt(`0x${h[2]}`),
        perms: h[3],
        path: h[4],
        rssKiB: 0,
        anonKiB: 0,
      };
      out.push(cur);
    } else if (cur && line.startsWith("Rss:")) {
      cur.rssKiB = parseInt(line.slice(4), 10);
    } else if (cur && line.startsWith("Anonymous:")) {
      cur.anonKiB = parseInt(line.slice(10), 10);
    }
  }
  return out;
}

/** The resident, read-only, private mappings of file that hold no written page. */
export function droppableMappings(maps: readonly Mapping[], file: string): Mapping[] {
  return maps.filter((m) =>
    m.path === file && m.perms[1] === "-" && m.perms[3] === "p" && m.anonKiB === 0 &&
    m.rssKiB > 0
  );
}

/** The host calls this needs; tests pass their own. */
export interface PageHost {
  smaps(): string | undefined;
  /** The running executable's path, as /proc/self/maps names it. */
  executable(): string | undefined;
  /** madvise(MADV_DONTNEED); false when the kernel refused. */
  dontNeed(start: bigint, length: bigint): boolean;
}

const MADV_DONTNEED = 4;

const libc = lazyLibrary(
  libcPath,
  {
    madvise: { parameters: ["usize", "usize", "i32"], result: "i32" },
    readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  } as const,
);

export const libcPages: PageHost = {
  smaps: () => readKernelFile("/proc/self/smaps"),
  executable() {
    const buf = new Uint8Array(4096);
    const n = Number(libc().readlink(cstr("/proc/self/exe"), buf, BigInt(buf.length)));
    return n > 0 && n < buf.length ? new TextDecoder().decode(buf.subarray(0, n)) : undefined;
  },
  dontNeed: (start, length) => libc().madvise(start, length, MADV_DONTNEED) === 0,
};

/**
 * Drops the executable's clean pages from the resident set. Returns what was resident in the
 * mappings it dropped (KiB), 0 when nothing could be done.
 */
export function dropExecutablePages(host: PageHost = libcPages): number {
  const exe = host.executable();
  const text = host.smaps();
  if (!exe || !text) return 0;
  let kib = 0;
  for (const m of droppableMappings(parseSmaps(text), exe)) {
    if (host.dontNeed(m.start, m.end - m.start)) kib += m.rssKiB;
  }
  return kib;
}
