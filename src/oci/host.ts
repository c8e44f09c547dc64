/**
 * The host effects the OCI runtime layer needs (spawning conmon and runc/crun, small files,
 * FIFOs, signals, /proc), behind one interface so the unit tests drive create/stop/exec with a
 * fake and the integration test with the real thing.
 *
 * Deno 2 refuses /proc, /sys and /dev to anything short of --allow-all, and Deno.kill() of a
 * process that is not a child to anything short of an unscoped --allow-run. The daemon has
 * neither: kernel files are read and signals sent through libc (src/util/libc_io.ts), and process
 * walks fall back to small host tools (HELPER_BINARIES), which its scoped --allow-run must list.
 */
import { atomicWrite } from "../util/atomic_write.ts";
import { markCloseOnExec } from "../storage/libc.ts";
import { readKernelFile, readSmallFile, signalProcess } from "../util/libc_io.ts";
import { afterHelperExit } from "../util/memory.ts";
import { unlinkFile, writeNewFile } from "../util/scratch_files.ts";

export interface RunResult {
  code: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** The command was killed because it outlived its timeout. */
  timedOut: boolean;
}

export interface ExitStatus {
  code: number;
  signal: string | null;
}

/** A child with stdin and stdout at /dev/null and stderr piped to the daemon. */
export interface HostChild {
  readonly pid: number;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<ExitStatus>;
  /** A child that already exited is not an error. */
  kill(signal: Deno.Signal): void;
}

export type ProcState = "running" | "zombie" | "gone";

export interface OciHost {
  /** Runs a short command to completion, killing it after timeoutMs. */
  run(
    cmd: string,
    args: string[],
    /** cwd: conmon writes its `oom` file into its working directory (the bundle). */
    options?: { timeoutMs?: number; env?: Record<string, string>; cwd?: string },
  ): Promise<RunResult>;
  spawn(cmd: string, args: string[], options?: { env?: Record<string, string> }): HostChild;
  /** At most maxBytes (the rest is not read); undefined when the file does not exist. */
  readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined>;
  /**
   * Atomic and durable: readers see the old or the new content, also after a crash. With
   * `scratch`, a new private file for one runtime call instead (an exec's process spec): no fsync,
   * which costs two disk flushes per probe, and it must not exist yet (no symlink is followed).
   */
  writeFile(path: string, data: string, options?: { scratch?: boolean }): Promise<void>;
  mkdir(path: string, mode?: number): Promise<void>;
  /** A missing path is not an error. */
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** mtime and inode, or undefined when the path does not exist. */
  stat(path: string): Promise<{ mtime: Date; ino: number } | undefined>;
  /** Writes to a FIFO without ever blocking on a missing reader. */
  writeFifo(path: string, data: string): Promise<void>;
  /** Signals one process or several; false when none of them exists. */
  kill(pids: number | number[], signal: Deno.Signal): Promise<boolean>;
  processState(pid: number): Promise<ProcState>;
  /** Every process whose parent is `pid`. */
  children(pid: number): Promise<number[]>;
  /** Resolves after ms, or early (without rejecting) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
}

/** Host tools the fallbacks run; the daemon's --allow-run must include them. */
export const HELPER_BINARIES = {
  ps: "/usr/bin/ps",
  stat: "/usr/bin/stat",
  find: "/usr/bin/find",
} as const;

const decoder = new TextDecoder();

/**
 * Reads a /proc, /sys or /dev file through libc (Deno refuses them without --allow-all; a `cat`
 * per read cost a spawn for every stats call). undefined: no such file.
 */
export function readSpecialFile(path: string): Promise<string | undefined> {
  try {
    return Promise.resolve(readKernelFile(path));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** pid, ppid and state of every process, through ps (one spawn instead of a /proc walk). */
async function psTable(): Promise<{ pid: number; ppid: number; state: string }[]> {
  const r = await run(HELPER_BINARIES.ps, ["-e", "-o", "pid=,ppid=,stat="], { timeoutMs: 10_000 });
  return decoder.decode(r.stdout).split("\n").map((l) => l.trim().split(/\s+/)).filter((f) =>
    f.length >= 3
  ).map(([pid, ppid, state]) => ({ pid: Number(pid), ppid: Number(ppid), state: state[0] }));
}

const SMALL_READ = 4096;

async function readBounded(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    // Sized by the file, not by the bound: ExecSync allows 16 MiB of output and a probe prints a
    // few bytes, so a buffer of maxBytes was a 16 MiB allocation per probe. /proc files report
    // size 0 and files may grow while read, hence the doubling.
    const { size } = await f.stat();
    let buf = new Uint8Array(Math.min(maxBytes, Math.max(size + 1, 4096)));
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n >= maxBytes) break;
        const bigger = new Uint8Array(Math.min(maxBytes, buf.length * 2));
        bigger.set(buf);
        buf = bigger;
      }
      const got = await f.read(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    f.close();
  }
}

/** Parent pid from /proc/<pid>/stat; the command name may contain spaces and parentheses. */
export function parseStat(text: string): { state: string; ppid: number } | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const [state, ppid] = text.slice(close + 2).split(" ");
  return state && ppid ? { state, ppid: Number(ppid) } : undefined;
}

async function procStat(pid: number): Promise<{ state: string; ppid: number } | undefined> {
  const text = await readSpecialFile(`/proc/${pid}/stat`).catch(() => undefined);
  return text === undefined ? undefined : parseStat(text);
}

function spawn(
  cmd: string,
  args: string[],
  o: { env?: Record<string, string>; cwd?: string; stdout?: "piped" | "null" },
) {
  // conmon double-forks and outlives the daemon: it must not inherit the CRI listener or any
  // connection opened since the last launch. One close_range(2) call, so it is done per launch.
  markCloseOnExec();
  return new Deno.Command(cmd, {
    args,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    stdin: "null",
    stdout: o.stdout ?? "piped",
    stderr: "piped",
    ...(o.env ? { env: o.env, clearEnv: true } : {}),
  }).spawn();
}

async function run(
  cmd: string,
  args: string[],
  options: { timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunResult> {
  const child = spawn(cmd, args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }, options.timeoutMs ?? 30_000);
  try {
    const out = await child.output();
    return { code: out.code, stdout: out.stdout, stderr: out.stderr, timedOut };
  } finally {
    clearTimeout(timer);
    afterHelperExit();
  }
}

export const denoHost: OciHost = {
  run,
  spawn(cmd, args, options = {}) {
    // Only stderr is read (what goes wrong before the helper has its own log): no pipe, stream
    // and 64 KiB read buffer for a stdout nobody reads, once per ExecSync.
    const child = spawn(cmd, args, { env: options.env, stdout: "null" });
    return {
      pid: child.pid,
      stderr: child.stderr,
      status: child.status.then((s) => {
        afterHelperExit();
        return { code: s.code, signal: s.signal };
      }),
      kill(signal) {
        try {
          child.kill(signal);
        } catch (err) {
          // Exited (and reaped) in the meantime: nothing left to signal.
          if (!(err instanceof TypeError)) throw err;
        }
      },
    };
  },
  // Pidfiles and exit files are polled: small reads go through libc, without a thrown NotFound.
  readFile: async (path, maxBytes) =>
    maxBytes <= SMALL_READ ? readSmallFile(path, maxBytes) : await readBounded(path, maxBytes),
  writeFile: async (path, data, options) =>
    options?.scratch ? writeNewFile(path, data) : await atomicWrite(path, data),
  mkdir: (path, mode) => Deno.mkdir(path, { recursive: true, mode: mode ?? 0o755 }),
  async remove(path, options = {}) {
    // A file goes with one unlink(2) here; a directory is left to Deno.
    if (!options.recursive && unlinkFile(path)) return;
    try {
      await Deno.remove(path, { recursive: options.recursive ?? false });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  },
  async stat(path) {
    try {
      const st = await Deno.stat(path);
      return { mtime: st.mtime ?? new Date(0), ino: st.ino ?? 0 };
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return undefined;
      throw err;
    }
  },
  async writeFifo(path, data) {
    // Read+write never blocks on a FIFO, even when no reader is left; write-only would.
    const f = await Deno.open(path, { read: true, write: true });
    try {
      await f.write(new TextEncoder().encode(data));
    } finally {
      f.close();
    }
  },
  kill(pids, signal) {
    const list = Array.isArray(pids) ? pids : [pids];
    let any = false;
    // kill(2) through libc: Deno.kill of a non-child needs an unscoped --allow-run.
    for (const pid of list) if (signalProcess(pid, signal)) any = true;
    return Promise.resolve(any);
  },

  async processState(pid) {
    const st = await procStat(pid);
    if (!st) return "gone";
    return st.state === "Z" || st.state === "X" ? "zombie" : "running";
  },
  async children(pid) {
    const out: number[] = [];
    try {
      for await (const e of Deno.readDir("/proc")) {
        if (!/^\d+$/.test(e.name)) continue;
        const st = await procStat(Number(e.name));
        if (st?.ppid === pid) out.push(Number(e.name));
      }
      return out;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
    }
    return (await psTable()).filter((p) => p.ppid === pid).map((p) => p.pid);
  },
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done);
    }),
  now: () => Date.now(),
};
