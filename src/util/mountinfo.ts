/**
 * Which paths are mount points now (a seam: tests pass their own), from the daemon's own
 * /proc/<pid>/mountinfo, read through libc (Deno refuses /proc without --allow-all; spawning
 * findmnt for it cost ~15 ms, three times per pod teardown).
 */
import { readKernelFile } from "./libc_io.ts";

export type MountPoints = () => Promise<Set<string>>;

export interface MountInfo {
  mountPoint: string;
  /** Optional fields, e.g. "shared:12 master:3". */
  optional: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const sep = f.indexOf("-");
    if (f.length < 7 || sep < 6) continue;
    out.push({ mountPoint: unescape(f[4]), optional: f.slice(6, sep).join(" ") });
  }
  return out;
}

export const hostMountPoints: MountPoints = () => {
  const text = readKernelFile(`/proc/${Deno.pid}/mountinfo`);
  if (text === undefined) return Promise.reject(new Error("no mountinfo for the daemon"));
  return Promise.resolve(new Set(parseMountinfo(text).map((m) => m.mountPoint)));
};
