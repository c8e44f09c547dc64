/** Child processes the harness starts: each stopped by its own PID, never by name. */

export interface Child {
  readonly pid: number;
  readonly status: Promise<Deno.CommandStatus>;
  stop(timeoutMs?: number): Promise<void>;
}

export function spawnChild(
  cmd: string,
  options: { args: string[]; env?: Record<string, string>; logFile: string; cwd?: string },
): Child {
  const log = Deno.openSync(options.logFile, { write: true, create: true, append: true });
  const proc = new Deno.Command(cmd, {
    args: options.args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pump = Promise.all([
    proc.stdout.pipeTo(log.writable, { preventClose: true }),
    proc.stderr.pipeTo(new WritableStream({ write: (c) => void log.writeSync(c) })),
  ]).finally(() => log.close());
  const status = proc.status.then(async (s) => {
    await pump.catch(() => {});
    return s;
  });
  let exited = false;
  status.then(() => (exited = true));
  return {
    pid: proc.pid,
    status,
    async stop(timeoutMs = 10_000) {
      if (exited) return;
      try {
        proc.kill("SIGTERM");
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          proc.kill("SIGKILL");
        } catch { /* already gone */ }
      }, timeoutMs);
      await status;
      clearTimeout(timer);
    },
  };
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; exited?: Promise<unknown> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let gone = false;
  options.exited?.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (gone) throw new Error(`${what}: the process exited before it was ready`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
  throw new Error(`${what}: not ready after ${options.timeoutMs} ms`);
}
