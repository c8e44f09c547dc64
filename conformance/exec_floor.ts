/**
 * deno run -A conformance/exec_floor.ts [--runtime runc|crun] [--calls 100]
 *
 * Where an ExecSync's time goes: the same `true` in one running container (1) through the daemon's
 * ExecSync, (2) through the daemon's exec code (src/oci/exec_sync.ts) run in this process, (3)
 * through `conmon -e --sync` with the daemon's arguments, started directly, and (4) through the
 * OCI runtime's `exec` alone. (1) - (2) is gRPC and the daemon's event loop, (2) - (3) the exec
 * code, (3) - (4) conmon. Prints medians and p90s; everything started is removed.
 */
import { DEFAULT_MINOR } from "../src/cri/k8s_versions.ts";
import { runExecSync } from "../src/oci/exec_sync.ts";
import { denoHost } from "../src/oci/host.ts";
import type { CriTestClient } from "../src/testing/cri_client.ts";
import { CONMON, conmonExec, execFiles, trueProcess } from "./conmon_exec.ts";
import { withToolDaemon } from "./tool_daemon.ts";

const BUSYBOX = "registry.k8s.io/e2e-test-images/busybox:1.29-2";
const RUNTIMES: Record<string, string> = { runc: "/usr/sbin/runc", crun: "/usr/bin/crun" };

function say(s: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(s + "\n"));
}

function parseArgs(argv: string[]) {
  const o = { runtime: "runc", calls: 100 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--runtime") o.runtime = value();
    else if (flag === "--calls") o.calls = Number(value());
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!RUNTIMES[o.runtime]) throw new Error(`--runtime must be runc or crun`);
  return o;
}

async function measure(label: string, n: number, fn: () => Promise<void>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(1);
  say(`${label.padEnd(44)} median ${at(0.5)} ms, p90 ${at(0.9)} ms`);
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

interface Subject {
  client: CriTestClient;
  podSandboxId: string;
  containerId: string;
  /** The process of the spec the daemon gave the runtime: what the daemon's exec starts from. */
  process: Record<string, unknown>;
}

/** A pod with one running busybox container, on a daemon of the harness's isolated set-up. */
async function subject(client: CriTestClient): Promise<Subject> {
  const call = <T>(method: string, req: Record<string, unknown>) =>
    client.call<T>("RuntimeService", method, req);
  const ns = { securityContext: { namespaceOptions: { pid: 1 } } };
  const config = { metadata: { name: "floor", uid: "floor-uid", namespace: "floor" }, linux: ns };
  await client.call("ImageService", "PullImage", { image: { image: BUSYBOX } });
  const { podSandboxId } = await call<{ podSandboxId: string }>("RunPodSandbox", { config });
  const { containerId } = await call<{ containerId: string }>("CreateContainer", {
    podSandboxId,
    config: {
      metadata: { name: "sh" },
      image: { image: BUSYBOX },
      command: ["sleep", "3600"],
      linux: ns,
    },
    sandboxConfig: config,
  });
  await call("StartContainer", { containerId });
  const { info } = await call<{ info: Record<string, string> }>("ContainerStatus", {
    containerId,
    verbose: true,
  });
  return { client, podSandboxId, containerId, process: JSON.parse(info.info).runtimeSpec.process };
}

async function measureAll(s: Subject, o: { runtime: string; calls: number; scratch: string }) {
  const runtimePath = RUNTIMES[o.runtime];
  const runtimeRoot = `/run/${o.runtime}`;
  const spec = trueProcess(s.process);
  let n = 0;
  await measure("ExecSync through the daemon", o.calls, async () => {
    const r = await s.client.call<{ exitCode: number }>("RuntimeService", "ExecSync", {
      containerId: s.containerId,
      cmd: ["true"],
      timeout: 10,
    });
    if (r.exitCode) throw new Error(`exit ${r.exitCode}`);
  });
  await measure("the daemon's exec code, in this process", o.calls, async () => {
    const files = execFiles(o.scratch, `e${n++}`);
    await denoHost.writeFile(files.processFile, spec, { scratch: true });
    await runExecSync(denoHost, {
      conmonPath: CONMON,
      conmonEnv: {},
      runtimePath,
      runtimeRoot,
      containerId: s.containerId,
      files,
      timeoutSeconds: 10,
    });
    for (const p of Object.values(files)) await denoHost.remove(p);
  });
  await measure("conmon -e --sync + runtime exec, direct", o.calls, async () => {
    const files = execFiles(o.scratch, `e${n++}`);
    await denoHost.writeFile(files.processFile, spec, { scratch: true });
    await conmonExec({ containerId: s.containerId, runtimePath, runtimeRoot, files });
    for (const p of Object.values(files)) await denoHost.remove(p);
  });
  await measure(
    `${o.runtime} exec alone`,
    o.calls,
    () => run(runtimePath, ["--root", runtimeRoot, "exec", s.containerId, "true"]),
  );
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const daemon = { prefix: "crio-exec-floor-", runtime: args.runtime, k8s: DEFAULT_MINOR };
  await withToolDaemon(daemon, async ({ cri, dir }) => {
    const s = await subject(cri);
    await Deno.mkdir(`${dir}/floor`);
    await measureAll(s, { ...args, scratch: `${dir}/floor` });
    await s.client.call("RuntimeService", "StopPodSandbox", { podSandboxId: s.podSandboxId });
    await s.client.call("RuntimeService", "RemovePodSandbox", { podSandboxId: s.podSandboxId });
  });
}

if (import.meta.main) await main();
