/**
 * The process_* metrics that Go's process collector gives CRI-O: resident and virtual memory, open
 * and maximum file descriptors. prom-client reads them from /proc/self with node:fs, which Deno
 * refuses without --allow-all (the daemon never has it), so they were 0 or absent on every scrape.
 * Here they come from the same files through libc, read once per scrape.
 */
import client from "prom-client";
import { countDirEntries, readKernelFile } from "../util/libc_io.ts";

/** Where the facts come from: /proc/self on the host, fixed text in unit tests. */
export interface ProcSource {
  readFile(path: string): string | undefined;
  countEntries(path: string): number | undefined;
}

export const hostProc: ProcSource = { readFile: readKernelFile, countEntries: countDirEntries };

/** prom-client's own collectors for these names, replaced by the ones below. */
export const REPLACED_DEFAULTS = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
] as const;

export interface StatusMemory {
  residentBytes: number;
  virtualBytes: number;
  dataBytes: number;
}

/** VmRSS, VmSize and VmData of a /proc/PID/status text, in bytes; undefined if one is missing. */
export function parseStatusMemory(status: string): StatusMemory | undefined {
  const kib = (field: string) => {
    const m = status.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m"));
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const [residentBytes, virtualBytes, dataBytes] = ["VmRSS", "VmSize", "VmData"].map(kib);
  if (residentBytes === undefined || virtualBytes === undefined || dataBytes === undefined) {
    return undefined;
  }
  return { residentBytes, virtualBytes, dataBytes };
}

/** The soft limit on open files from a /proc/PID/limits text; Infinity when unlimited. */
export function parseMaxFds(limits: string): number | undefined {
  const m = limits.match(/^Max open files\s+(\d+|unlimited)\s/m);
  if (!m) return undefined;
  return m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** Registers the process gauges on registry; each scrape reads status, limits and fd once. */
export function registerProcessMetrics(
  registry: client.Registry,
  source: ProcSource = hostProc,
): void {
  const registers = [registry];
  // Registered first, so that its collect (which sets all five) runs before the others are read.
  const rss = new client.Gauge({
    name: "process_resident_memory_bytes",
    help: "Resident memory size in bytes.",
    registers,
    collect: () => collect(),
  });
  const gauge = (name: string, help: string) => new client.Gauge({ name, help, registers });
  const vsize = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  const data = gauge("process_heap_bytes", "Process heap (data segment) size in bytes.");
  const open = gauge("process_open_fds", "Number of open file descriptors.");
  const max = gauge("process_max_fds", "Maximum number of open file descriptors.");
  const collect = () => {
    const mem = parseStatusMemory(source.readFile("/proc/self/status") ?? "");
    if (mem) {
      rss.set(mem.residentBytes);
      vsize.set(mem.virtualBytes);
      data.set(mem.dataBytes);
    }
    const fds = source.countEntries("/proc/self/fd");
    if (fds !== undefined) open.set(fds);
    const limit = parseMaxFds(source.readFile("/proc/self/limits") ?? "");
    if (limit !== undefined) max.set(limit);
  };
}
