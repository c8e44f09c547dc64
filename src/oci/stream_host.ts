/**
 * Host effects of streaming sessions: a conmon that gets two extra pipes, and the connection to an
 * attach socket. conmon's --exec-attach handshake needs fds beyond stdio (_OCI_ATTACHPIPE: conmon
 * says its attach socket listens; _OCI_STARTPIPE: the client says it is connected, conmon may run
 * the process). Deno.Command passes only stdio; node:child_process passes extra `pipe` entries as
 * fds 3, 4, … (socket pairs, which conmon reads and writes like pipes), under the same --allow-run.
 */
import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { markCloseOnExec } from "../storage/libc.ts";
import { afterHelperExit } from "../util/memory.ts";
import { FdSocket, type PacketConn } from "../util/fd_socket.ts";

export interface MonitorChild {
  readonly pid: number;
  /** Resolves when conmon reports its attach socket listening; rejects if it exits first. */
  readonly attachReady: Promise<void>;
  /** Lets conmon start the runtime (a write to its start pipe). */
  start(): void;
  readonly status: Promise<{ code: number }>;
  /** What conmon printed before pointing its stdio at /dev/null (argument errors). */
  readonly early: Promise<string>;
  /** A child that already exited is not an error. */
  kill(signal: Deno.Signal): void;
}

export interface StreamHost {
  spawnMonitor(
    cmd: string,
    args: string[],
    options: { env: Record<string, string>; cwd: string },
  ): MonitorChild;
  /** Connects to a conmon attach socket. */
  connectAttach(path: string): PacketConn;
}

/** conmon's fds: 3 = attach pipe, 4 = start pipe (named to it by the environment). */
export const MONITOR_PIPE_ENV = { _OCI_ATTACHPIPE: "3", _OCI_STARTPIPE: "4" };

function collect(stream: Readable | null, limit: number): Promise<string> {
  return new Promise((resolve) => {
    if (!stream) return resolve("");
    let text = "";
    stream.on("data", (d: Uint8Array) => {
      if (text.length < limit) text += new TextDecoder().decode(d);
    });
    stream.on("close", () => resolve(text.slice(0, limit)));
    stream.on("error", () => resolve(text.slice(0, limit)));
  });
}

function spawnMonitor(
  cmd: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
): MonitorChild {
  // conmon must not inherit the CRI listener or connections (see host.ts spawn).
  markCloseOnExec();
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: { ...options.env, ...MONITOR_PIPE_ENV },
    stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"],
  });
  const attachPipe = child.stdio[3] as Readable;
  const startPipe = child.stdio[4] as Writable;
  const status = new Promise<{ code: number }>((resolve) => {
    child.on("close", (code, signal) => {
      attachPipe.destroy();
      startPipe.destroy();
      afterHelperExit();
      resolve({ code: code ?? 128 + signalNumber(signal ?? "") });
    });
    child.on("error", () => resolve({ code: 127 }));
  });
  const attachReady = new Promise<void>((resolve, reject) => {
    attachPipe.once("data", () => resolve());
    attachPipe.once("close", () => reject(new Error("conmon closed its attach pipe")));
    attachPipe.once("error", reject);
  });
  attachReady.catch(() => {});
  // The first write unblocks conmon's start-up read; the second (start()) its exec.
  startPipe.on("error", () => {});
  startPipe.write("0");
  const early = Promise.all([collect(child.stdout, 4096), collect(child.stderr, 4096)]).then((
    [a, b],
  ) => `${a}${b}`.trim());
  return {
    pid: child.pid ?? -1,
    attachReady,
    start: () => void startPipe.write("1"),
    status,
    early,
    kill(signal) {
      try {
        child.kill(signal as NodeJS.Signals);
      } catch { /* already gone */ }
    },
  };
}

const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };
function signalNumber(name: string): number {
  return SIGNALS[name] ?? 0;
}

export const denoStreamHost: StreamHost = {
  spawnMonitor,
  connectAttach: (path) => FdSocket.connectSeqpacket(path),
};
