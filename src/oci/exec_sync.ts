/**
 * ExecSync, run the way CRI-O runs it: `conmon --sync -e` stays the daemon's child, runs
 * `runtime exec -d`, becomes the subreaper of the exec'd process, writes its output to a CRI log
 * file capped by --log-global-size-max (16 MiB, CVE-2022-1708) and exits with its exit code.
 * conmon returns when the exec'd process exits even if children it left in the background hold
 * its pipes (runc's own non-detached exec would wait for them: CVE-2026-53495). On timeout the
 * whole exec process tree is killed.
 */
import { DeadlineExceededError, InternalError } from "../errors.ts";
import { readPid, runtimeLogError } from "./conmon.ts";
import { parseCriLog } from "./cri_log.ts";
import type { Logger } from "../log.ts";
import type { OciHost } from "./host.ts";

export const MAX_EXEC_SYNC_OUTPUT = 16 << 20;

export interface ExecSyncResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  exitCode: number;
  /** Output reached the cap and the rest was dropped. */
  truncated: boolean;
}

/** Every descendant of pid, pid excluded. */
export async function descendants(host: OciHost, pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length && out.length < 100_000) {
    const kids = await host.children(queue.shift()!);
    out.push(...kids);
    queue.push(...kids);
  }
  return out;
}

/** Passes of stopping; a tree still growing after this many is killed as it stands. */
const MAX_STOP_PASSES = 16;

/** How long conmon gets to reap the killed exec and exit before it is killed too. */
export const MONITOR_REAP_GRACE_MS = 2000;

/**
 * SIGKILLs everything under the conmon at pid: the exec'd process (conmon subreaps it), what it
 * started, or the runtime still starting it. The tree is stopped first, pass by pass until a pass
 * finds nobody new: a stopped process cannot fork, so no child is born between a listing and the
 * kill (killed at once, a parent's late child went to the container's init, out of reach, and
 * lived on). conmon itself is left running, to reap the killed process: killed or stopped, it
 * would leave a zombie under the host's init, still listed by `ps` inside the container.
 */
export async function killUnder(host: OciHost, pid: number): Promise<void> {
  const seen = new Set<number>();
  let fresh = await descendants(host, pid);
  for (let pass = 0; fresh.length > 0 && pass < MAX_STOP_PASSES; pass++) {
    await host.kill(fresh, "SIGSTOP");
    for (const p of fresh) seen.add(p);
    fresh = (await descendants(host, pid)).filter((p) => !seen.has(p));
  }
  await host.kill([...seen, ...fresh], "SIGKILL");
}

/** Gives a monitor whose exec was killed time to reap it and exit, then kills it. */
export async function endMonitor(
  host: OciHost,
  monitor: { status: Promise<unknown>; kill(signal: Deno.Signal): void },
): Promise<void> {
  const abort = new AbortController();
  await Promise.race([monitor.status, host.sleep(MONITOR_REAP_GRACE_MS, abort.signal)]);
  abort.abort();
  monitor.kill("SIGKILL");
  await monitor.status;
}

export interface ExecSyncFiles {
  /** The process spec (the container's, with the command's args). */
  processFile: string;
  pidFile: string;
  logFile: string;
  runtimeLog: string;
}

/** One exec's scratch files in its container's bundle, named apart from any other exec's. */
export function execSyncFiles(bundle: string): ExecSyncFiles {
  const stem = `${bundle}/exec-${crypto.randomUUID().slice(0, 8)}`;
  return {
    processFile: `${stem}.json`,
    pidFile: `${stem}.pid`,
    logFile: `${stem}.log`,
    runtimeLog: `${stem}.runtime.log`,
  };
}

/**
 * Removes finished execs' scratch files once their answer is out: four unlinks took 0.3 ms of
 * each ExecSync's answer (a probe's), so they wait for a macrotask, which runs once grpc-js has
 * written the answer. The runtime waits for settled() before a bundle goes.
 */
export class ExecScratchRemovals {
  readonly #pending = new Set<Promise<void>>();
  readonly #host: OciHost;
  readonly #log?: Logger;

  constructor(host: OciHost, log?: Logger) {
    this.#host = host;
    this.#log = log;
  }

  removeAfterAnswer(paths: string[]): void {
    const done: Promise<void> = new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => Promise.all(paths.map((p) => this.#host.remove(p))))
      .then(
        () => {},
        (err) => this.#log?.warn("exec scratch files not removed", { error: String(err) }),
      )
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

export function execSyncArgs(
  o: {
    containerId: string;
    runtimePath: string;
    runtimeRoot: string;
    cap: number;
    timeoutSeconds: number;
  },
  f: ExecSyncFiles,
): string[] {
  const pairs: [string, string][] = [
    ["-c", o.containerId],
    ["-u", o.containerId],
    ["-r", o.runtimePath],
    ["-p", f.pidFile],
    ["--exec-process-spec", f.processFile],
    ["-l", f.logFile],
    ["--log-global-size-max", String(o.cap)],
    ["--runtime-arg", `--root=${o.runtimeRoot}`],
    ["--runtime-arg", `--log=${f.runtimeLog}`],
    ["--runtime-arg", "--log-format=json"],
  ];
  // conmon's own timeout is the backstop; the daemon's timer below kills the tree first.
  if (o.timeoutSeconds > 0) pairs.push(["-T", String(o.timeoutSeconds + 5)]);
  return ["-e", "--sync", ...pairs.flat()];
}

export async function runExecSync(
  host: OciHost,
  options: {
    conmonPath: string;
    conmonEnv: Record<string, string>;
    runtimePath: string;
    runtimeRoot: string;
    containerId: string;
    files: ExecSyncFiles;
    /** 0: no timeout (CRI). */
    timeoutSeconds: number;
    maxOutput?: number;
  },
): Promise<ExecSyncResult> {
  const cap = options.maxOutput ?? MAX_EXEC_SYNC_OUTPUT;
  const f = options.files;
  const child = host.spawn(options.conmonPath, execSyncArgs({ ...options, cap }, f), {
    env: options.conmonEnv,
  });
  // conmon points its stdio at /dev/null once it has parsed its arguments; until then its
  // complaints arrive on stderr.
  const early = new Response(child.stderr).text();
  const abort = new AbortController();
  const timer = options.timeoutSeconds > 0
    ? host.sleep(options.timeoutSeconds * 1000, abort.signal).then(() => !abort.signal.aborted)
    : new Promise<boolean>(() => {});
  const first = await Promise.race([child.status, timer]);
  abort.abort();
  if (first === true) {
    await killUnder(host, child.pid);
    await endMonitor(host, child);
    await early;
    throw new DeadlineExceededError(
      `command timed out after ${options.timeoutSeconds} s in container ${options.containerId}`,
    );
  }
  const status = first as { code: number };
  const conmonSaid = (await early).trim();
  if ((await readPid(host, f.pidFile)) === undefined) {
    // The runtime never started the process (a stopped container, a missing binary...).
    const log = await host.readFile(f.runtimeLog, 64 << 10);
    const reason = runtimeLogError(new TextDecoder().decode(log ?? new Uint8Array())) ||
      conmonSaid || `conmon exit ${status.code}`;
    throw new InternalError(`exec in container ${options.containerId} failed: ${reason}`);
  }
  // conmon stops writing at the cap; one buffer more covers the line in flight.
  const log = (await host.readFile(f.logFile, cap + (64 << 10))) ?? new Uint8Array();
  const out = parseCriLog(log, cap);
  return {
    stdout: out.stdout,
    stderr: out.stderr,
    exitCode: status.code,
    truncated: log.length >= cap - (16 << 10),
  };
}
