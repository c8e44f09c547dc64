/**
 * Streaming exec (the CRI Exec URL), through conmon as podman runs it: `conmon -e --exec-attach
 * --sync` with its own small bundle (process.json, pidfile, attach socket, ctl FIFO). conmon
 * allocates the terminal (the runtime hands it the pty master over a console socket), serves the
 * attach socket and applies resizes from the ctl FIFO, exits with the process's exit code, and
 * returns as soon as the exec'd process exits even if a background child holds the output.
 *
 * Why conmon for every exec and not `runc exec` for the non-tty case: Deno cannot hand a child a
 * pty (nor any fd but stdio), so tty exec needs conmon anyway; one path serves both; and conmon's
 * subreaping means a background child left holding the output cannot keep the session open (a
 * non-detached `runc exec` waits for it, the hang exec_sync.ts avoids the same way). The price is
 * start latency, measured by stream_integration_test.ts (median start-to-exit of `true`, 2-core
 * VM shared with other jobs): conmon + runc 175 ms vs bare `runc exec` 82 ms; conmon + crun
 * 140-200 ms vs bare `crun exec` 40 ms. Of that, conmon's own start until its socket listens is
 * 12-45 ms; the rest is `runtime exec -d` and the exit handshake. Acceptable for interactive
 * sessions; ExecSync (probes) has its own path.
 */
import { InternalError } from "../errors.ts";
import { attachLink, readPid, runtimeLogError } from "./conmon.ts";
import { endMonitor, killUnder } from "./exec_sync.ts";
import type { OciHost } from "./host.ts";
import type { OciProcess } from "./spec/types.ts";
import type { StreamHost } from "./stream_host.ts";
import { joinConmonSocket, type StreamIO } from "./stream_io.ts";

export interface ExecStreamOptions {
  conmonPath: string;
  conmonEnv: Record<string, string>;
  runtimePath: string;
  runtimeRoot: string;
  containerId: string;
  /** container_attach_socket_dir: conmon links `<dir>/<execId>` to the exec bundle. */
  socketDir: string;
  /** The exec's own directory (created here, removed at the end). */
  dir: string;
  /** The container's process; args and terminal are replaced. */
  process: OciProcess;
  cmd: string[];
  io: StreamIO;
  /** Bound on conmon's start-up until its attach socket listens. */
  startTimeoutMs?: number;
}

export function execStreamFiles(dir: string) {
  return {
    processFile: `${dir}/process.json`,
    pidFile: `${dir}/pid`,
    runtimeLog: `${dir}/runtime.log`,
    ctl: `${dir}/ctl`,
  };
}

export function execStreamArgs(
  o: Pick<ExecStreamOptions, "containerId" | "runtimePath" | "runtimeRoot" | "socketDir" | "dir">,
  s: { execId: string; tty: boolean; stdin: boolean },
): string[] {
  const f = execStreamFiles(o.dir);
  const pairs: [string, string][] = [
    ["-c", o.containerId],
    ["-u", s.execId],
    ["-r", o.runtimePath],
    ["-b", o.dir],
    ["-p", f.pidFile],
    ["--exec-process-spec", f.processFile],
    // The client gets the output live; no log file is kept.
    ["-l", "none:"],
    ["--socket-dir-path", o.socketDir],
    ["--runtime-arg", `--root=${o.runtimeRoot}`],
    ["--runtime-arg", `--log=${f.runtimeLog}`],
    ["--runtime-arg", "--log-format=json"],
  ];
  const args = ["-e", "--exec-attach", "--api-version", "1", "--sync", ...pairs.flat()];
  if (s.tty) args.push("-t");
  if (s.stdin) args.push("-i");
  return args;
}

/**
 * The exit code of a process the runtime could not start, as shells, docker and podman report
 * it (kubectl shows it): 127 not found, 126 found but not runnable; else runc's own code for a
 * failed exec, 255.
 */
export function startFailureCode(reason: string): number {
  if (/not found|no such file/i.test(reason)) return 127;
  if (/permission denied|not executable|exec format/i.test(reason)) return 126;
  return 255;
}

const decoder = new TextDecoder();

export async function runExecStream(
  host: OciHost,
  stream: StreamHost,
  o: ExecStreamOptions,
): Promise<{ exitCode: number }> {
  const f = execStreamFiles(o.dir);
  const execId = crypto.randomUUID().replaceAll("-", "");
  const link = attachLink(o.socketDir, execId);
  await host.mkdir(o.dir, 0o700);
  try {
    const process = { ...o.process, args: o.cmd, terminal: o.io.tty };
    await host.writeFile(f.processFile, JSON.stringify(process), { scratch: true });
    const args = execStreamArgs(o, { execId, tty: o.io.tty, stdin: !!o.io.stdin });
    const child = stream.spawnMonitor(o.conmonPath, args, { env: o.conmonEnv, cwd: o.dir });
    // conmon subreaps the exec'd process, so its tree holds everything the exec started, even
    // before the runtime wrote the pidfile (a runtime still starting the process).
    const killAll = async () => {
      await killUnder(host, child.pid);
      await endMonitor(host, child);
    };
    try {
      await waitAttachReady(host, child, o);
    } catch (err) {
      child.kill("SIGKILL");
      await child.status;
      throw err;
    }
    const conn = stream.connectAttach(`${link}/attach`);
    child.start();
    const ended = new AbortController();
    await joinConmonSocket(conn, o.io, {
      writeCtl: (line) => host.writeFifo(f.ctl, line),
      onAbort: () => void killAll(),
      resizeReady: o.io.tty ? processStarted(host, f.pidFile, ended.signal) : undefined,
    }).finally(() => ended.abort());
    const status = await child.status;
    if ((await readPid(host, f.pidFile)) !== undefined) return { exitCode: status.code };
    const log = decoder.decode(await host.readFile(f.runtimeLog, 64 << 10) ?? new Uint8Array());
    const reason = runtimeLogError(log) ?? (await child.early);
    if (!reason) {
      throw new InternalError(`exec in ${o.containerId}: conmon exited ${status.code}`);
    }
    return { exitCode: startFailureCode(reason) };
  } finally {
    await host.remove(link);
    await host.remove(o.dir, { recursive: true });
  }
}

/**
 * Resolves once the runtime wrote the exec's pidfile (its terminal exists then), or when waiting
 * is over (session ended, 30 s): held sizes are then sent anyway, and conmon drops what it cannot
 * apply.
 */
async function processStarted(host: OciHost, pidFile: string, ended: AbortSignal): Promise<void> {
  for (let waited = 0; waited < 30_000 && !ended.aborted; waited += 20) {
    if ((await readPid(host, pidFile)) !== undefined) return;
    await host.sleep(20, ended).catch(() => {});
  }
}

async function waitAttachReady(
  host: OciHost,
  child: { attachReady: Promise<void>; early: Promise<string>; status: Promise<unknown> },
  o: ExecStreamOptions,
): Promise<void> {
  const abort = new AbortController();
  const ms = o.startTimeoutMs ?? 30_000;
  const timer = host.sleep(ms, abort.signal).then(() => "timeout" as const);
  let onAbort = () => {};
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    if (o.io.signal?.aborted) onAbort();
    o.io.signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    const first = await Promise.race([
      child.attachReady.then(() => "ready" as const, () => "exited" as const),
      timer,
      aborted,
    ]);
    if (first === "ready") return;
    if (first === "exited") {
      await child.status;
      const said = await child.early;
      throw new InternalError(`exec in ${o.containerId}: conmon failed: ${said || "no reason"}`);
    }
    throw new InternalError(
      first === "timeout"
        ? `exec in ${o.containerId}: conmon did not listen within ${ms} ms`
        : `exec in ${o.containerId}: the client went away`,
    );
  } finally {
    abort.abort();
    o.io.signal?.removeEventListener("abort", onAbort);
  }
}
