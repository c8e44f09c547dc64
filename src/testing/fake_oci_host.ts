/**
 * An in-memory OciHost for unit tests: files in a map, a clock that sleep() advances, scripted
 * answers for run() and spawn(), a process table for processState()/children(), and a record of
 * every command and signal.
 */
import type { ExitStatus, HostChild, OciHost, ProcState, RunResult } from "../oci/host.ts";

const enc = new TextEncoder();

export interface FakeSpawn {
  /** Resolves the child's status now; leave undefined for a child that runs until killed. */
  code?: number;
  stderr?: string;
  /** Runs when the child is spawned (e.g. to write files the real program would). */
  effect?: () => void;
}

export class FakeHost implements OciHost {
  files = new Map<string, { data: Uint8Array; mtime: Date; ino: number }>();
  fifoWrites: [string, string][] = [];
  commands: string[][] = [];
  signals: [number, string][] = [];
  procs = new Map<number, { state: ProcState; ppid: number }>();
  clock = 1_000_000;
  #ino = 1;
  onRun: (cmd: string, args: string[]) => Partial<RunResult> & { effect?: () => void } = () => ({});
  onSpawn: (cmd: string, args: string[]) => FakeSpawn = () => ({ code: 0 });
  /** Called for every signal; return false for "no such process". */
  onKill: (pid: number, signal: string) => boolean = (pid) => this.procs.has(pid);

  write(path: string, data: string | Uint8Array): void {
    this.files.set(path, {
      data: typeof data === "string" ? enc.encode(data) : data,
      mtime: new Date(this.clock),
      ino: this.#ino++,
    });
  }

  text(path: string): string | undefined {
    const f = this.files.get(path);
    return f ? new TextDecoder().decode(f.data) : undefined;
  }

  run(cmd: string, args: string[]): Promise<RunResult> {
    this.commands.push([cmd, ...args]);
    const r = this.onRun(cmd, args);
    r.effect?.();
    return Promise.resolve({
      code: r.code ?? 0,
      stdout: r.stdout ?? new Uint8Array(),
      stderr: r.stderr ?? new Uint8Array(),
      timedOut: r.timedOut ?? false,
    });
  }

  spawn(cmd: string, args: string[]): HostChild {
    this.commands.push([cmd, ...args]);
    const s = this.onSpawn(cmd, args);
    s.effect?.();
    let settle!: (v: ExitStatus) => void;
    const status = new Promise<ExitStatus>((r) => settle = r);
    if (s.code !== undefined) settle({ code: s.code, signal: null });
    const stream = (t?: string) =>
      new ReadableStream<Uint8Array>({
        start(c) {
          if (t) c.enqueue(enc.encode(t));
          c.close();
        },
      });
    return {
      pid: 4242,
      stderr: stream(s.stderr),
      status,
      kill: (signal) => {
        this.signals.push([4242, signal]);
        settle({ code: 137, signal });
      },
    };
  }

  readFile(path: string, maxBytes: number): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.files.get(path)?.data.slice(0, maxBytes));
  }

  writeFile(path: string, data: string): Promise<void> {
    this.write(path, data);
    return Promise.resolve();
  }

  mkdir(): Promise<void> {
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    this.files.delete(path);
    return Promise.resolve();
  }

  stat(path: string): Promise<{ mtime: Date; ino: number } | undefined> {
    const f = this.files.get(path);
    return Promise.resolve(f ? { mtime: f.mtime, ino: f.ino } : undefined);
  }

  writeFifo(path: string, data: string): Promise<void> {
    this.fifoWrites.push([path, data]);
    return Promise.resolve();
  }

  kill(pids: number | number[], signal: Deno.Signal): Promise<boolean> {
    let any = false;
    for (const pid of Array.isArray(pids) ? pids : [pids]) {
      this.signals.push([pid, signal]);
      any = this.onKill(pid, signal) || any;
    }
    return Promise.resolve(any);
  }

  processState(pid: number): Promise<ProcState> {
    return Promise.resolve(this.procs.get(pid)?.state ?? "gone");
  }

  children(pid: number): Promise<number[]> {
    return Promise.resolve([...this.procs].filter(([, p]) => p.ppid === pid).map(([k]) => k));
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    await Promise.resolve();
    if (!signal?.aborted) this.clock += ms;
  }

  now(): number {
    return this.clock;
  }
}
