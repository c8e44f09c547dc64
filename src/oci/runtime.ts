/**
 * Drives one OCI runtime handler (runc or crun) through conmon: create (bundle + conmon), start,
 * state, kill, stop (stop signal, then SIGKILL with backoff, bounded), delete, exec-sync, exit
 * files and log reopening. Stateless but for a memo of exec'd containers' processes
 * (container_processes.ts): everything it needs is in the bundle, the exits directory and the
 * runtime's own root, so a restarted daemon picks containers up where they are.
 */
import { FailedPreconditionError, InternalError, UnavailableError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { attachLink, bundleFiles, readPid, startConmon, type StartedConmon } from "./conmon.ts";
import {
  ExecScratchRemovals,
  execSyncFiles,
  type ExecSyncResult,
  runExecSync,
} from "./exec_sync.ts";
import { runExecStream } from "./exec_stream.ts";
import { denoHost, type OciHost } from "./host.ts";
import { denoStreamHost, type StreamHost } from "./stream_host.ts";
import { joinConmonSocket, type StreamIO } from "./stream_io.ts";
import type { OciProcess, OciSpec } from "./spec/types.ts";
import { ContainerProcesses } from "./container_processes.ts";

export interface OciRuntimeOptions {
  /** Handler name ("runc", "crun"), for messages. */
  name: string;
  runtimePath: string;
  /** runtime_root: the runtime's --root. */
  runtimeRoot: string;
  conmonPath: string;
  /** monitor_env, as KEY=VALUE strings. */
  conmonEnv: string[];
  exitsDir: string;
  attachSocketDir: string;
  cgroupManager: "systemd" | "cgroupfs";
  logSizeMax: number;
  noSyncLog?: boolean;
  /** container_create_timeout (CRI-O: 240 s). */
  createTimeoutMs?: number;
  /** Upper bound for a stop after SIGKILL was sent; a container still alive then is an error. */
  killTimeoutMs?: number;
  host?: OciHost;
  /** conmon with extra pipes and attach-socket connections (streaming exec and attach). */
  streamHost?: StreamHost;
  log?: Logger;
}

export interface CreateRequest {
  id: string;
  /** A directory of the caller's; config.json and conmon's files go there. */
  bundle: string;
  spec: OciSpec;
  logPath: string;
  name?: string;
  terminal?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
}

/** What `runtime state` reports. */
export interface RuntimeState {
  id: string;
  pid: number;
  status: "creating" | "created" | "running" | "stopped" | "paused" | string;
  bundle: string;
  created?: string;
}

export interface ExitRecord {
  exitCode: number;
  finishedAt: Date;
  /** exit-file: conmon recorded it; runtime: the runtime says stopped but no exit file exists. */
  source: "exit-file" | "runtime";
}

const decoder = new TextDecoder();
const MISSING = /does not exist|not exist|no such file|not found/i;
const NOT_RUNNING = /not running|no such process|container not running|already stopped|is stopped/i;

export class OciRuntime {
  readonly #o: OciRuntimeOptions;
  readonly #host: OciHost;
  readonly #stream: StreamHost;
  readonly #processes: ContainerProcesses;
  readonly #scratch: ExecScratchRemovals;

  constructor(options: OciRuntimeOptions) {
    this.#o = options;
    this.#host = options.host ?? denoHost;
    this.#stream = options.streamHost ?? denoStreamHost;
    this.#processes = new ContainerProcesses(this.#host);
    this.#scratch = new ExecScratchRemovals(this.#host, options.log);
  }

  get name(): string {
    return this.#o.name;
  }

  exitFile(id: string): string {
    return `${this.#o.exitsDir}/${id}`;
  }

  /** Where conmon serves attach (`<dir>/<id>` links to the bundle). */
  attachSocketPath(id: string): string {
    return `${attachLink(this.#o.attachSocketDir, id)}/attach`;
  }

  async #runtime(args: string[], timeoutMs = 30_000) {
    const r = await this.#host.run(
      this.#o.runtimePath,
      [`--root=${this.#o.runtimeRoot}`, ...args],
      {
        timeoutMs,
      },
    );
    const stderr = decoder.decode(r.stderr).trim();
    if (r.timedOut) throw new UnavailableError(`${this.#o.name} ${args[0]} timed out`);
    return { ok: r.code === 0, stdout: decoder.decode(r.stdout), stderr };
  }

  /** Writes the bundle and starts conmon, which runs `runtime create`. */
  async create(req: CreateRequest): Promise<StartedConmon> {
    this.#processes.forget(req.id);
    const h = this.#host;
    const f = bundleFiles(req.bundle);
    await h.mkdir(req.bundle, 0o700);
    await h.mkdir(this.#o.exitsDir, 0o700);
    await h.mkdir(this.#o.attachSocketDir, 0o755);
    await h.mkdir(req.logPath.slice(0, req.logPath.lastIndexOf("/")) || "/", 0o755);
    // A retried create must not mistake the last attempt's files for this one's.
    for (const p of [f.pidfile, f.conmonPidfile, f.runtimeLog, this.exitFile(req.id)]) {
      await h.remove(p);
    }
    await h.writeFile(f.config, JSON.stringify(req.spec));
    try {
      return await startConmon(h, {
        conmonPath: this.#o.conmonPath,
        runtimePath: this.#o.runtimePath,
        runtimeRoot: this.#o.runtimeRoot,
        containerId: req.id,
        name: req.name,
        bundle: req.bundle,
        logPath: req.logPath,
        exitsDir: this.#o.exitsDir,
        socketDir: this.#o.attachSocketDir,
        logSizeMax: this.#o.logSizeMax,
        systemdCgroup: this.#o.cgroupManager === "systemd",
        terminal: req.terminal,
        stdin: req.stdin,
        stdinOnce: req.stdinOnce,
        noSyncLog: this.#o.noSyncLog,
        env: this.#conmonEnv(),
        timeoutMs: this.#o.createTimeoutMs ?? 240_000,
      });
    } catch (err) {
      // Half-created: the runtime may hold the id; free it so a retry can reuse it.
      await this.delete(req.id).catch(() => {});
      throw err;
    }
  }

  async start(id: string): Promise<void> {
    const r = await this.#runtime(["start", id]);
    if (!r.ok) throw new InternalError(`${this.#o.name} start ${id}: ${r.stderr}`);
  }

  /** undefined when the runtime does not know the container. */
  async state(id: string): Promise<RuntimeState | undefined> {
    const r = await this.#runtime(["state", id]);
    if (!r.ok) {
      if (MISSING.test(r.stderr)) return undefined;
      throw new InternalError(`${this.#o.name} state ${id}: ${r.stderr}`);
    }
    return JSON.parse(r.stdout) as RuntimeState;
  }

  /** Sends a signal to the container's init; a container that is not running is not an error. */
  async kill(id: string, signal: string): Promise<void> {
    const r = await this.#runtime(["kill", id, signal]);
    if (!r.ok && !NOT_RUNNING.test(r.stderr) && !MISSING.test(r.stderr)) {
      throw new InternalError(`${this.#o.name} kill ${id} ${signal}: ${r.stderr}`);
    }
  }

  /** Applies new resource limits to a live container (`runtime update --resources`). */
  async update(id: string, options: { bundle: string; resources: object }): Promise<void> {
    const file = `${options.bundle}/update-${crypto.randomUUID().slice(0, 8)}.json`;
    await this.#host.writeFile(file, JSON.stringify(options.resources), { scratch: true });
    try {
      const r = await this.#runtime(["update", "--resources", file, id]);
      if (!r.ok) throw new InternalError(`${this.#o.name} update ${id}: ${r.stderr}`);
    } finally {
      await this.#host.remove(file);
    }
  }

  /** Idempotent: deleting a container the runtime does not know succeeds. */
  async delete(id: string): Promise<void> {
    // A bundle is removed after this: no exec's scratch file may be unlinked under it then.
    await this.settled();
    this.#processes.forget(id);
    const r = await this.#runtime(["delete", "--force", id]);
    if (!r.ok && !MISSING.test(r.stderr)) {
      throw new InternalError(`${this.#o.name} delete ${id}: ${r.stderr}`);
    }
    // conmon unlinks its attach link when it exits, but not when it was killed, and its exit can
    // trail this call: the link goes with the container either way. A link that cannot be removed
    // must not keep the container from going.
    await this.#host.remove(attachLink(this.#o.attachSocketDir, id)).catch(() => {});
  }

  /**
   * The exit conmon recorded, if the container has exited. Read before stat: a running container
   * has no file, and ContainerStatus and ExecSync ask this each time, so the usual answer is one
   * small read (readFile's bounded read goes through libc) rather than a stat op that throws.
   */
  async exitRecord(id: string): Promise<ExitRecord | undefined> {
    const path = this.exitFile(id);
    const bytes = await this.#host.readFile(path, 32);
    if (!bytes) return undefined;
    const text = decoder.decode(bytes).trim();
    if (!/^-?\d+$/.test(text)) return undefined; // conmon writes it whole; partial means "not yet".
    const st = await this.#host.stat(path);
    // Removed between the two calls (the container is being removed): the time of reading.
    const finishedAt = st?.mtime ?? new Date(this.#host.now());
    return { exitCode: Number(text), finishedAt, source: "exit-file" };
  }

  /**
   * Whether the container's process runs. PodSandboxStatus asks this for every infra container,
   * so the usual answer comes without spawning the runtime: no exit file while conmon lives means
   * running (conmon writes the file before it exits). Only a gone conmon needs the runtime's word.
   */
  async running(id: string, bundle: string): Promise<boolean> {
    if (await this.exitRecord(id)) return false;
    if (await this.#conmonAlive(bundle)) return true;
    return (await this.state(id))?.status === "running";
  }

  async #conmonAlive(bundle: string): Promise<boolean> {
    const conmon = await readPid(this.#host, bundleFiles(bundle).conmonPidfile);
    return conmon !== undefined && (await this.#host.processState(conmon)) === "running";
  }

  /**
   * Exited when conmon wrote the exit file, or when conmon is gone and the runtime reports the
   * container stopped or unknown (a killed conmon never writes the file).
   */
  async #exited(id: string, bundle: string): Promise<ExitRecord | undefined> {
    const rec = await this.exitRecord(id);
    if (rec) return rec;
    if (await this.#conmonAlive(bundle)) return undefined;
    const st = await this.state(id);
    if (st && st.status !== "stopped") return undefined;
    return (await this.exitRecord(id)) ??
      { exitCode: 137, finishedAt: new Date(this.#host.now()), source: "runtime" };
  }

  async #waitExit(id: string, bundle: string, ms: number): Promise<ExitRecord | undefined> {
    const deadline = this.#host.now() + ms;
    for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
      const rec = await this.#exited(id, bundle);
      if (rec || this.#host.now() >= deadline) return rec;
      await this.#host.sleep(Math.min(delay, Math.max(1, deadline - this.#host.now())));
    }
  }

  /**
   * The stop signal, up to timeoutSeconds for the container to exit, then SIGKILL again and again
   * with backoff; bounded by killTimeoutMs so a wedged runtime cannot hang the daemon.
   */
  async stop(
    id: string,
    options: { bundle: string; signal?: string; timeoutSeconds: number },
  ): Promise<ExitRecord> {
    const signal = options.signal ?? "SIGTERM";
    const done = await this.#exited(id, options.bundle);
    if (done) return done;
    if (options.timeoutSeconds > 0 && signal !== "SIGKILL" && signal !== "9") {
      await this.kill(id, signal);
      const rec = await this.#waitExit(id, options.bundle, options.timeoutSeconds * 1000);
      if (rec) return rec;
      this.#o.log?.info("container did not stop in time; sending SIGKILL", { id, signal });
    }
    const limit = this.#host.now() + (this.#o.killTimeoutMs ?? 60_000);
    for (let backoff = 100;; backoff = Math.min(backoff * 2, 5_000)) {
      await this.kill(id, "SIGKILL");
      const rec = await this.#waitExit(
        id,
        options.bundle,
        Math.min(backoff, Math.max(0, limit - this.#host.now())),
      );
      if (rec) return rec;
      if (this.#host.now() >= limit) {
        throw new UnavailableError(`container ${id} is still running after SIGKILL; giving up`);
      }
    }
  }

  /** Runs cmd in the container; process settings (user, env, caps) are the container's. */
  async execSync(
    id: string,
    options: { bundle: string; cmd: string[]; timeoutSeconds: number; process?: OciProcess },
  ): Promise<ExecSyncResult> {
    if (!options.cmd.length) throw new FailedPreconditionError("exec: the command is empty");
    const base = options.process ?? (await this.#processes.get(id, options.bundle));
    const files = execSyncFiles(options.bundle);
    const process = { ...base, args: options.cmd, terminal: false };
    await this.#host.writeFile(files.processFile, JSON.stringify(process), { scratch: true });
    try {
      return await runExecSync(this.#host, {
        conmonPath: this.#o.conmonPath,
        conmonEnv: this.#conmonEnv(),
        runtimePath: this.#o.runtimePath,
        runtimeRoot: this.#o.runtimeRoot,
        containerId: id,
        files,
        timeoutSeconds: options.timeoutSeconds,
      });
    } finally {
      this.#scratch.removeAfterAnswer(Object.values(files));
    }
  }

  /** Resolves once no finished exec has scratch files left to remove. */
  settled(): Promise<void> {
    return this.#scratch.settled();
  }

  /** A streaming exec (CRI Exec): the process's exit code, or 126/127/255 when it cannot start. */
  async execStream(
    id: string,
    options: { bundle: string; cmd: string[]; io: StreamIO; process?: OciProcess },
  ): Promise<{ exitCode: number }> {
    if (!options.cmd.length) throw new FailedPreconditionError("exec: the command is empty");
    const base = options.process ?? (await this.#processes.get(id, options.bundle));
    return await runExecStream(this.#host, this.#stream, {
      conmonPath: this.#o.conmonPath,
      conmonEnv: this.#conmonEnv(),
      runtimePath: this.#o.runtimePath,
      runtimeRoot: this.#o.runtimeRoot,
      containerId: id,
      socketDir: this.#o.attachSocketDir,
      dir: `${options.bundle}/exec-${crypto.randomUUID().slice(0, 8)}`,
      process: base,
      cmd: options.cmd,
      io: options.io,
    });
  }

  /**
   * Joins the container's stdio through its conmon's attach socket until the container exits or
   * the client goes away. conmon must still run (it serves the socket).
   */
  async attach(id: string, options: { bundle: string; io: StreamIO }): Promise<void> {
    let conn;
    try {
      conn = this.#stream.connectAttach(this.attachSocketPath(id));
    } catch (err) {
      throw new FailedPreconditionError(`cannot attach to container ${id}: ${errorText(err)}`);
    }
    await joinConmonSocket(conn, options.io, {
      writeCtl: (line) => this.#host.writeFifo(bundleFiles(options.bundle).ctl, line),
    });
  }

  #conmonEnv(): Record<string, string> {
    return Object.fromEntries(this.#o.conmonEnv.map((e) => {
      const i = e.indexOf("=");
      return [e.slice(0, i), e.slice(i + 1)];
    }));
  }

  /**
   * Asks conmon to reopen the log (kubelet rotated it) through its control FIFO, and waits for
   * the new file, as CRI-O does. Only a running container's conmon can do it.
   */
  async reopenLog(
    id: string,
    options: { bundle: string; logPath: string; timeoutMs?: number },
  ): Promise<void> {
    const h = this.#host;
    const f = bundleFiles(options.bundle);
    const conmon = await readPid(h, f.conmonPidfile);
    if (conmon === undefined || (await h.processState(conmon)) !== "running") {
      throw new FailedPreconditionError(
        `container ${id} is not running; its log cannot be reopened`,
      );
    }
    const before = await h.stat(options.logPath);
    await h.writeFifo(f.ctl, "2 0 0\n");
    const deadline = h.now() + (options.timeoutMs ?? 5_000);
    for (let delay = 2; h.now() < deadline; delay = Math.min(delay * 2, 50)) {
      const now = await h.stat(options.logPath);
      if (now && (!before || now.ino !== before.ino)) return;
      await h.sleep(delay);
    }
    throw new UnavailableError(`conmon did not reopen the log of ${id} in time`);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
