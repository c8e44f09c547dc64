/**
 * A throwaway local image registry for the conformance harness.
 *
 * critest pulls from public registries that this machine cannot reach, so the
 * harness serves images it built itself from Debian's `docker-registry`
 * (distribution v2), bound to loopback only and living in a temp dir.
 */

export interface LocalRegistry {
  /** Base URL, e.g. `http://127.0.0.1:41234` (`https://` when served with TLS). */
  url: string;
  /** `127.0.0.1:PORT`, the form used in image references and registries.conf. */
  host: string;
  pid: number;
  /** Kills this registry's PID only, waits for it and removes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  binary?: string;
  /** How long to wait for `GET /v2/` to answer. */
  readyTimeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL in stop(). */
  stopTimeoutMs?: number;
  /** Start attempts; the free-port probe can race with other listeners. */
  attempts?: number;
  /** Access control: htpasswd (bcrypt entries) or token (JWTs from a token server). */
  auth?: RegistryAuth;
  /** Serve HTTPS with this certificate; `ca` (PEM) is what the readiness probe trusts. */
  tls?: { certificate: string; key: string; ca: string };
  /**
   * Storage directory to use instead of a fresh one (kept by stop()): a second instance with auth
   * or TLS can serve what an open instance had pushed.
   */
  dataDir?: string;
}

export type RegistryAuth =
  | { htpasswd: { realm: string; path: string } }
  | { token: { realm: string; service: string; issuer: string; rootcertbundle: string } };

export interface RegistryConfigOptions {
  auth?: RegistryAuth;
  tls?: { certificate: string; key: string };
}

const DEFAULT_BINARY = "/usr/bin/docker-registry";
const STDERR_TAIL_BYTES = 8192;

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<LocalRegistry> {
  const attempts = opts.attempts ?? 3;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const dir = await Deno.makeTempDir({ prefix: "critest-registry-" });
    try {
      return await launch(dir, opts);
    } catch (err) {
      lastError = err;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
  throw new Error(`docker-registry did not start after ${attempts} attempts`, {
    cause: lastError,
  });
}

/** Writes the distribution config; every value is ours, nothing comes from /etc. */
export function registryConfig(
  rootDir: string,
  addr: string,
  opts: RegistryConfigOptions = {},
): string {
  const q = (s: string) => JSON.stringify(s);
  const section = (name: string, values: Record<string, string>, indent: string) => [
    `${indent}${name}:`,
    ...Object.entries(values).map(([k, v]) => `${indent}  ${k}: ${q(v)}`),
  ];
  const auth = opts.auth
    ? ["auth:", ...Object.entries(opts.auth).flatMap(([k, v]) => section(k, v, "  "))]
    : [];
  const tls = opts.tls ? section("tls", opts.tls, "  ") : [];
  return [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${q(rootDir)}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: ${q(addr)}`,
    ...tls,
    ...auth,
    "health:",
    "  storagedriver:",
    "    enabled: false",
    "",
  ].join("\n");
}

async function launch(dir: string, opts: StartRegistryOptions): Promise<LocalRegistry> {
  const port = freePort();
  const host = `127.0.0.1:${port}`;
  const url = `${opts.tls ? "https" : "http"}://${host}`;
  const configPath = `${dir}/config.yml`;
  const data = opts.dataDir ?? `${dir}/data`;
  await Deno.mkdir(data, { recursive: true });
  const tls = opts.tls && { certificate: opts.tls.certificate, key: opts.tls.key };
  await Deno.writeTextFile(configPath, registryConfig(data, host, { auth: opts.auth, tls }));

  const child = new Deno.Command(opts.binary ?? DEFAULT_BINARY, {
    args: ["serve", configPath],
    // REGISTRY_* variables override the config file, so none may leak in.
    clearEnv: true,
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = drainTail(child.stderr);
  const stop = makeStop(child, { stderr, dir, graceMs: opts.stopTimeoutMs ?? 5000 });

  try {
    await waitReady(url, {
      exited: child.status,
      timeoutMs: opts.readyTimeoutMs ?? 10_000,
      ca: opts.tls?.ca,
    });
  } catch (err) {
    await stop();
    const tail = (await stderr.done).trim();
    throw new Error(`${(err as Error).message}${tail ? `\nregistry stderr:\n${tail}` : ""}`);
  }
  return { url, host, pid: child.pid, stop };
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

interface StopDeps {
  stderr: { done: Promise<string> };
  dir: string;
  graceMs: number;
}

function makeStop(child: Deno.ChildProcess, deps: StopDeps): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const run = async () => {
    signal(child, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<true>((resolve) => {
      timer = setTimeout(() => resolve(true), deps.graceMs);
    });
    const outcome = await Promise.race([child.status.then(() => false), timedOut]);
    clearTimeout(timer);
    if (outcome) signal(child, "SIGKILL");
    await child.status;
    await deps.stderr.done;
    await Deno.remove(deps.dir, { recursive: true }).catch(() => {});
  };
  return () => (stopping ??= run());
}

function signal(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch {
    // Already exited: nothing left to signal.
  }
}

async function waitReady(
  url: string,
  opts: { exited: Promise<Deno.CommandStatus>; timeoutMs: number; ca?: string },
): Promise<void> {
  const { exited, timeoutMs } = opts;
  const client = opts.ca ? Deno.createHttpClient({ caCerts: [opts.ca] }) : undefined;
  try {
    await poll(url, { exited, timeoutMs, client });
  } finally {
    client?.close();
  }
}

async function poll(
  url: string,
  opts: { exited: Promise<Deno.CommandStatus>; timeoutMs: number; client?: Deno.HttpClient },
): Promise<void> {
  const { exited, timeoutMs } = opts;
  let status: Deno.CommandStatus | undefined;
  exited.then((s) => (status = s));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (status) throw new Error(`docker-registry exited early with code ${status.code}`);
    if (await answers(`${url}/v2/`, opts.client)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer ${url}/v2/ within ${timeoutMs} ms`);
}

/** 200, or 401 from a registry that wants credentials. */
async function answers(url: string, client?: Deno.HttpClient): Promise<boolean> {
  try {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(1000),
      ...(client ? { client } : {}),
    });
    await res.body?.cancel();
    return res.status === 200 || res.status === 401;
  } catch {
    return false;
  }
}

/** Keeps only the end of the child's stderr: enough to explain a failure, bounded in memory. */
function drainTail(stream: ReadableStream<Uint8Array>): { done: Promise<string> } {
  const done = (async () => {
    let tail = new Uint8Array(0);
    for await (const chunk of stream) {
      const joined = new Uint8Array(tail.length + chunk.length);
      joined.set(tail);
      joined.set(chunk, tail.length);
      tail = joined.slice(Math.max(0, joined.length - STDERR_TAIL_BYTES));
    }
    return new TextDecoder().decode(tail);
  })();
  return { done };
}
