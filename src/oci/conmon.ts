/**
 * One conmon per container (Debian's conmon 2.1): it runs `runtime create`, holds the container's
 * stdio, writes the CRI log (`--log-size-max`), the exit file (`--exit-dir`) and the attach socket,
 * and listens on `<bundle>/ctl` for log reopening. It double-forks, so the container keeps its
 * monitor when the daemon stops. The daemon cannot hand conmon a sync pipe (Deno passes no extra
 * fds to children), so it learns the outcome from files: the container pidfile the runtime writes
 * on success, the conmon pidfile, and the runtime's own log on failure.
 */
import { DeadlineExceededError, InternalError } from "../errors.ts";
import type { OciHost } from "./host.ts";

export interface ConmonArgs {
  conmonPath: string;
  runtimePath: string;
  runtimeRoot: string;
  containerId: string;
  /** The k8s_ name, shown by conmon in its logs. */
  name?: string;
  bundle: string;
  logPath: string;
  exitsDir: string;
  /** container_attach_socket_dir; the socket ends up at `<dir>/<id>/attach`. */
  socketDir: string;
  /** log_size_max; negative means unbounded (the flag is omitted). */
  logSizeMax: number;
  systemdCgroup: boolean;
  terminal?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  noSyncLog?: boolean;
}

/** A unix socket path's limit on Linux, its terminating NUL included (sun_path). */
const SUN_PATH_SIZE = 108;

/**
 * The link conmon makes from the attach socket dir to the bundle, named after the id. conmon
 * drops the name's last character when the link's path would be exactly one short of sun_path's
 * size (the socket inside could not be bound otherwise), so a deep socket dir can hold
 * `<dir>/<id minus one char>`: whoever removes or dials the link must name it the same way.
 */
export function attachLink(socketDir: string, id: string): string {
  const path = `${socketDir}/${id}`;
  const bytes = new TextEncoder().encode(path).length;
  return bytes === SUN_PATH_SIZE - 1 ? path.slice(0, -1) : path;
}

/** Files conmon and the runtime write inside the bundle. */
export function bundleFiles(bundle: string) {
  return {
    config: `${bundle}/config.json`,
    pidfile: `${bundle}/pidfile`,
    conmonPidfile: `${bundle}/conmon.pid`,
    runtimeLog: `${bundle}/runtime.log`,
    ctl: `${bundle}/ctl`,
  };
}

export function conmonArgs(a: ConmonArgs): string[] {
  const f = bundleFiles(a.bundle);
  const pairs: [string, string][] = [
    ["-c", a.containerId],
    ["-u", a.containerId],
    ["-n", a.name ?? a.containerId],
    ["-r", a.runtimePath],
    ["-b", a.bundle],
    ["-p", f.pidfile],
    ["-P", f.conmonPidfile],
    ["-l", a.logPath],
    ["--exit-dir", a.exitsDir],
    ["--socket-dir-path", a.socketDir],
    ["--runtime-arg", `--root=${a.runtimeRoot}`],
    // conmon reports the runtime's failure only through a sync pipe we cannot pass; the
    // runtime's own log keeps the reason.
    ["--runtime-arg", `--log=${f.runtimeLog}`],
    ["--runtime-arg", "--log-format=json"],
  ];
  const args = pairs.flat();
  if (a.logSizeMax >= 0) args.push("--log-size-max", String(a.logSizeMax));
  if (a.systemdCgroup) args.push("-s");
  if (a.noSyncLog) args.push("--no-sync-log");
  if (a.terminal) args.push("-t");
  else if (a.stdin) {
    args.push("-i");
    if (!a.stdinOnce) args.push("--leave-stdin-open");
  }
  return args;
}

/** The last error a runtime wrote to its JSON log (runc and crun share the shape). */
export function runtimeLogError(text: string): string | undefined {
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.msg && (entry.level === "error" || entry.level === "fatal")) last = entry.msg;
    } catch {
      last = line.trim();
    }
  }
  return last;
}

export interface StartedConmon {
  /** The container's init process. */
  pid: number;
  conmonPid: number;
}

const decode = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b).trim() : "");

/** The pid in a pidfile (conmon's, the runtime's); undefined while absent or partly written. */
export async function readPid(host: OciHost, path: string): Promise<number | undefined> {
  const text = decode(await host.readFile(path, 64));
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Spawns conmon and waits until the runtime has created the container (its pidfile appears), the
 * monitor died (create failed), or the timeout passed (conmon is then killed).
 */
export async function startConmon(
  host: OciHost,
  a: ConmonArgs & { env: Record<string, string>; timeoutMs: number },
): Promise<StartedConmon> {
  const f = bundleFiles(a.bundle);
  const started = host.now();
  // In the bundle, as CRI-O runs it: conmon writes its `oom` file into its working directory.
  const launcher = await host.run(a.conmonPath, conmonArgs(a), {
    env: a.env,
    timeoutMs: a.timeoutMs,
    cwd: a.bundle,
  });
  if (launcher.code !== 0) {
    throw new InternalError(
      `conmon failed for ${a.containerId}: ${decode(launcher.stderr) || `exit ${launcher.code}`}`,
    );
  }
  const conmonPid = await readPid(host, f.conmonPidfile);
  if (conmonPid === undefined) {
    throw new InternalError(`conmon wrote no pidfile for ${a.containerId}`);
  }
  let checked = started;
  for (let delay = 1;; delay = Math.min(delay * 2, 10)) {
    const pid = await readPid(host, f.pidfile);
    if (pid !== undefined) return { pid, conmonPid };
    // Liveness may cost a process spawn (host.ts), so it is asked every 100 ms, not per poll.
    if (host.now() - checked >= 100) {
      checked = host.now();
      if ((await host.processState(conmonPid)) !== "running") {
        // The pidfile may have landed just before conmon gave up on something later.
        const late = await readPid(host, f.pidfile);
        if (late !== undefined) return { pid: late, conmonPid };
        const reason = runtimeLogError(decode(await host.readFile(f.runtimeLog, 64 << 10)));
        throw new InternalError(
          `creating container ${a.containerId} failed: ${reason ?? "conmon exited"}`,
        );
      }
    }
    if (host.now() - started > a.timeoutMs) {
      await host.kill(conmonPid, "SIGKILL");
      throw new DeadlineExceededError(
        `creating container ${a.containerId} took longer than ${a.timeoutMs} ms`,
      );
    }
    await host.sleep(delay);
  }
}
