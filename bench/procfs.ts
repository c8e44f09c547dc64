/**
 * Per-process CPU and memory from /proc. Deno refuses reads under /proc without --allow-all, so
 * the files are read by `cat` and `grep` (one spawn for many PIDs); parsing is pure and tested.
 */

const decoder = new TextDecoder();

/**
 * How long a process is left alone before its "fresh" memory is read, daemons and the List floor
 * alike: start-up's garbage and its collection settle, so no runtime is caught mid-way.
 */
export const FRESH_SETTLE_MS = 2000;

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** CPU seconds of the process itself. */
  user: number;
  system: number;
  /** CPU seconds of its waited-for children (helpers it spawned and reaped). */
  childUser: number;
  childSystem: number;
}

export interface ProcMem {
  /** Resident set size now, KiB. */
  rssKiB: number;
  /** Peak resident set size since start or the last clear_refs reset, KiB. */
  hwmKiB: number;
  /** The resident set's anonymous part (heaps, stacks), KiB: the rest maps files (code, data). */
  anonKiB: number;
}

export interface PsEntry {
  pid: number;
  ppid: number;
  args: string;
}

/** Parses one /proc/PID/stat line; the command name may hold blanks and parentheses. */
export function parseStat(line: string, ticksPerSecond: number): ProcStat {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: ${line.slice(0, 80)}`);
  // Fields after the name, numbered as in proc(5) from field 3 (state).
  const f = line.slice(close + 2).trim().split(/\s+/);
  const at = (n: number) => Number(f[n - 3]);
  return {
    pid: Number(line.slice(0, open).trim()),
    ppid: at(4),
    comm: line.slice(open + 1, close),
    user: at(14) / ticksPerSecond,
    system: at(15) / ticksPerSecond,
    childUser: at(16) / ticksPerSecond,
    childSystem: at(17) / ticksPerSecond,
  };
}

/** Parses `grep -H` of /proc/PID/status's VmRSS, VmHWM and RssAnon lines into KiB per PID. */
export function parseStatusLines(text: string): Map<number, ProcMem> {
  const out = new Map<number, ProcMem>();
  for (const line of text.split("\n")) {
    const m = /^\/proc\/(\d+)\/status:(VmRSS|VmHWM|RssAnon):\s+(\d+)\s+kB/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const entry = out.get(pid) ?? { rssKiB: 0, hwmKiB: 0, anonKiB: 0 };
    if (m[2] === "VmRSS") entry.rssKiB = Number(m[3]);
    else if (m[2] === "VmHWM") entry.hwmKiB = Number(m[3]);
    else entry.anonKiB = Number(m[3]);
    out.set(pid, entry);
  }
  return out;
}

/** Parses `ps -eo pid=,ppid=,args=`. */
export function parsePs(text: string): PsEntry[] {
  const out: PsEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) out.push({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3] });
  }
  return out;
}

/** Total CPU seconds: the process and, when `children`, the helpers it reaped. */
export function cpuSeconds(s: ProcStat, options: { children: boolean }): number {
  return s.user + s.system + (options.children ? s.childUser + s.childSystem : 0);
}

async function capture(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
  return decoder.decode(out.stdout);
}

let ticks: number | undefined;
export async function ticksPerSecond(): Promise<number> {
  ticks ??= Number((await capture("getconf", ["CLK_TCK"])).trim()) || 100;
  return ticks;
}

/** /proc/PID/stat of each PID still alive; a PID that is gone is left out. */
export async function readStats(pids: readonly number[]): Promise<Map<number, ProcStat>> {
  const out = new Map<number, ProcStat>();
  if (pids.length === 0) return out;
  const tps = await ticksPerSecond();
  const text = await capture("cat", pids.map((p) => `/proc/${p}/stat`));
  for (const line of text.split("\n")) {
    if (line.trim()) {
      const s = parseStat(line, tps);
      out.set(s.pid, s);
    }
  }
  return out;
}

export async function readMem(pids: readonly number[]): Promise<Map<number, ProcMem>> {
  if (pids.length === 0) return new Map();
  return parseStatusLines(
    await capture("grep", [
      "-H",
      "-E",
      "^(Vm[RH][SW]|RssAnon)",
      ...pids.map((p) => `/proc/${p}/status`),
    ]),
  );
}

/** Resets a process's peak RSS (VmHWM) to its current RSS (proc(5), clear_refs value 5). */
export async function resetPeakRss(pid: number): Promise<boolean> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'echo 5 > "$1"', "sh", `/proc/${pid}/clear_refs`],
    stderr: "null",
  }).output();
  return out.success;
}

export async function listProcesses(): Promise<PsEntry[]> {
  return parsePs(await capture("ps", ["-eo", "pid=,ppid=,args="]));
}

/** CLOCK_MONOTONIC-like seconds since boot, the clock V8 stamps profile samples with. */
export async function uptimeSeconds(): Promise<number> {
  return Number((await capture("cat", ["/proc/uptime"])).split(" ")[0]);
}

export function sumKiB(mem: Map<number, ProcMem>, pids: readonly number[]): number {
  return pids.reduce((a, p) => a + (mem.get(p)?.rssKiB ?? 0), 0);
}
