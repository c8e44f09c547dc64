/**
 * Streaming exec (the CRI Exec URL), through conmon as podman runs it: `conmon -e --exec-attach
 * --sync` with its own small bundle (process.json, pidfile, attach socket, ctl FIFO). conmon
 * allocates the terminal (the runtime hands it the pty master over a console socket), serves the
 * attach socket and applies resizes from the ctl FIFO, exits with the process's exit code, and
 * returns as soon as the exec'd process exits even if a background child holds the output.
 *
 * Why conmon for every exec and not `runc exec` for the non-tty case: Deno cannot hand a child a
 * pty (nor any fd but stdio), so tty exec needs conmon anyway; one path serves both; conmon's
 * subreaping means a left-behind background child cannot keep the session open; and the start
 * cost is the same order (measured in exec_stream_integration_test.ts: conmon + runc ≈ a bare
 * `runc exec` plus a few ms, both dominated by runc itself).
 */
import { InternalError } from "../errors.ts";
import { runtimeLogError } from "./conmon.ts";
import { killTree } from "./exec_sync.ts";
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

async function readPid(host: OciHost, path: string): Promise<number | undefined> {
  const text = decoder.decode(await host.readFile(path, 64) ?? new Uint8Array()).trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

export async function runExecStream(
  host: OciHost,
  stream: StreamHost,
  o: ExecStreamOptions,
): Promise<{ exitCode: number }> {
  const f = execStreamFiles(o.dir);
  const execId = crypto.randomUUID().replaceAll("-", "");
  const link = `${o.socketDir}/${execId}`;
  await host.mkdir(o.dir, 0o700);
  try {
    const process = { ...o.process, args: o.cmd, terminal: o.io.tty };
    await host.writeFile(f.processFile, JSON.stringify(process));
    const args = execStreamArgs(o, { execId, tty: o.io.tty, stdin: !!o.io.stdin });
    const child = stream.spawnMonitor(o.conmonPath, args, { env: o.conmonEnv, cwd: o.dir });
    const killAll = async () => {
      const pid = await readPid(host, f.pidFile);
      if (pid !== undefined) await killTree(host, pid);
      child.kill("SIGKILL");
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
    await joinConmonSocket(conn, o.io, {
      writeCtl: (line) => host.writeFifo(f.ctl, line),
      onAbort: () => void killAll(),
    });
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

async function waitAttachReady(
  host: OciHost,
  child: { attachReady: Promise<void>; early: Promise<string>; status: Promise<unknown> },
  o: ExecStreamOptions,
): Promise<void> {
  const abort = new AbortController();
  const ms = o.startTimeoutMs ?? 30_000;
  const timer = host.sleep(ms, abort.signal).then(() => "timeout" as const);
  const aborted = new Promise<"aborted">((resolve) => {
    if (o.io.signal?.aborted) resolve("aborted");
    o.io.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
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
  }
}
