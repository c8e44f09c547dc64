/**
 * The List workload's client: bench/cri_list, a Go gRPC client built here from the Go module
 * proxy (go.sum pins every module). The bench's grpc-js client has a p99 of 8-10 ms against
 * containerd itself, so it cannot tell whether a daemon meets a 5 ms p99; the kubelet's client is
 * Go's, and so is this one.
 */
import { cacheDir } from "../src/cri/k8s_versions.ts";

const SOURCE = new URL("./cri_list/", import.meta.url).pathname;
const GO_HOME_BIN = "/usr/local/go/bin/go";
const SOURCE_FILES = ["main.go", "go.mod", "go.sum"];

/** The proxy here refuses sum.golang.org lookups; go.sum carries the pins instead. */
const GO_ENV = { GOSUMDB: "off", GOFLAGS: "-mod=readonly -trimpath", CGO_ENABLED: "0" };

export interface ListTimes {
  /** Until each answer had arrived and was decoded: what the kubelet sees. */
  ms: number[];
  /** Until each answer's last byte had arrived: the daemon's part, without the decoding. */
  arrivedMs: number[];
  /** Items in the warm-up call's answer. */
  items: number;
}

async function sourceDigest(): Promise<string> {
  const parts = await Promise.all(SOURCE_FILES.map((f) => Deno.readFile(`${SOURCE}${f}`)));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length + 1;
  }
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function output(
  cmd: string,
  o: { args: string[]; cwd?: string; env?: Record<string, string> },
) {
  const out = await new Deno.Command(cmd, {
    args: o.args,
    cwd: o.cwd,
    env: o.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  if (!out.success) throw new Error(`${cmd} ${o.args.join(" ")}: ${text(out.stderr)}`);
  return text(out.stdout);
}

/** Builds the client unless the build on disk came from the same sources; returns its path. */
export async function buildListClient(log: (line: string) => void): Promise<string> {
  const dir = `${cacheDir()}/bench/cri_list`;
  const bin = `${dir}/cri_list`;
  const digest = await sourceDigest();
  const stamp = await Deno.readTextFile(`${dir}/.sources`).catch(() => "");
  if (stamp.trim() === digest && await Deno.stat(bin).then(() => true, () => false)) return bin;
  // Where vm/provision.sh looks first; else PATH's.
  const go = await Deno.stat(GO_HOME_BIN).then(() => GO_HOME_BIN, () => "go");
  log(`building the Go List client (${SOURCE})`);
  await Deno.mkdir(dir, { recursive: true });
  const abs = bin.startsWith("/") ? bin : `${Deno.cwd()}/${bin}`;
  await output(go, { args: ["build", "-o", `${abs}.tmp`, "."], cwd: SOURCE, env: GO_ENV });
  await Deno.rename(`${abs}.tmp`, abs);
  await Deno.writeTextFile(`${dir}/.sources`, `${digest}\n`);
  return bin;
}

/** Times `calls` List calls (after one untimed call) against the daemon at `socket`. */
export async function goList(
  bin: string,
  o: { socket: string; method: "Version" | "ListPodSandbox" | "ListContainers"; calls: number },
): Promise<ListTimes> {
  const text = await output(bin, {
    args: ["-socket", o.socket, "-method", o.method, "-calls", String(o.calls)],
  });
  const parsed = JSON.parse(text) as ListTimes;
  const complete = (a: unknown) => Array.isArray(a) && a.length === o.calls;
  if (!complete(parsed.ms) || !complete(parsed.arrivedMs)) {
    throw new Error(`cri_list ${o.method}: expected ${o.calls} timings, got ${text.slice(0, 200)}`);
  }
  return parsed;
}
