/**
 * deno run -A conformance/exec_floor.ts [--runtime runc|crun] [--calls 100]
 *
 * Where an ExecSync's time goes: the same `true` in one running container (1) through the daemon's
 * ExecSync, (2) through `conmon -e --sync` with the daemon's own arguments (src/oci/exec_sync.ts)
 * but started by this script, and (3) through the OCI runtime's `exec` alone. (1) - (2) is the
 * daemon's share, (2) - (3) the monitor's. Prints medians and p90s; everything started is removed.
 */
import { cacheDir, DEFAULT_MINOR, k8sMinor } from "../src/cri/k8s_versions.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { execSyncArgs, runExecSync } from "../src/oci/exec_sync.ts";
import { denoHost } from "../src/oci/host.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { buildAndPushCritestImages, registriesConf } from "./images/critest_images.ts";
import { drainPods, removeBridge, startDaemon } from "./daemon.ts";
import { startRegistry } from "./registry.ts";

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

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const pins = k8sMinor(DEFAULT_MINOR);
  const undo: (() => Promise<unknown>)[] = [];
  const dir = await Deno.makeTempDir({ prefix: "crio-exec-floor-" });
  undo.push(() => Deno.remove(dir, { recursive: true }));
  try {
    const registry = await startRegistry();
    undo.push(() => registry.stop());
    const images = await buildAndPushCritestImages({
      registry: registry.host,
      critestVersion: pins.criTools,
    });
    await Deno.writeTextFile(`${dir}/registries.conf`, registriesConf(images.hosts, registry.host));
    const d = await startDaemon(dir, {
      runtime: args.runtime,
      k8s: DEFAULT_MINOR,
      registriesConf: `${dir}/registries.conf`,
    });
    undo.push(() => removeBridge());
    undo.push(() => d.child.stop(15_000));
    undo.push(() => drainPods(d.endpoint, `${cacheDir()}/cri-tools/${pins.criTools}/crictl`));
    const c = new CriTestClient(d.socket, loadSchema());
    undo.push(() => Promise.resolve(c.close()));
    const config = {
      metadata: { name: "floor", uid: "floor-uid", namespace: "floor" },
      linux: { securityContext: { namespaceOptions: { pid: 1 } } },
    };
    await c.call("ImageService", "PullImage", { image: { image: BUSYBOX } });
    const { podSandboxId } = await c.call<{ podSandboxId: string }>(
      "RuntimeService",
      "RunPodSandbox",
      { config },
    );
    const { containerId: id } = await c.call<{ containerId: string }>(
      "RuntimeService",
      "CreateContainer",
      {
        podSandboxId,
        config: {
          metadata: { name: "sh" },
          image: { image: BUSYBOX },
          command: ["sleep", "3600"],
          linux: { securityContext: { namespaceOptions: { pid: 1 } } },
        },
        sandboxConfig: config,
      },
    );
    await c.call("RuntimeService", "StartContainer", { containerId: id });
    const { info } = await c.call<{ info: Record<string, string> }>(
      "RuntimeService",
      "ContainerStatus",
      { containerId: id, verbose: true },
    );
    // The spec the daemon gave the runtime; its process is what the daemon's exec starts from.
    const spec = JSON.parse(info.info).runtimeSpec;
    const runtime = RUNTIMES[args.runtime];
    const root = `/run/${args.runtime}`;
    await measure("ExecSync through the daemon", args.calls, async () => {
      const r = await c.call<{ exitCode: number }>("RuntimeService", "ExecSync", {
        containerId: id,
        cmd: ["true"],
        timeout: 10,
      });
      if (r.exitCode) throw new Error(`exit ${r.exitCode}`);
    });
    const scratch = `${dir}/floor`;
    await Deno.mkdir(scratch);
    let n = 0;
    await measure("conmon -e --sync + runtime exec, direct", args.calls, async () => {
      const f = {
        processFile: `${scratch}/p${n}.json`,
        pidFile: `${scratch}/p${n}.pid`,
        logFile: `${scratch}/p${n}.log`,
        runtimeLog: `${scratch}/p${n}.rlog`,
      };
      n++;
      await Deno.writeTextFile(
        f.processFile,
        JSON.stringify({ ...spec.process, args: ["true"], terminal: false }),
      );
      await run(
        "/usr/bin/conmon",
        execSyncArgs({
          containerId: id,
          runtimePath: runtime,
          runtimeRoot: root,
          cap: 16 << 20,
          timeoutSeconds: 10,
        }, f),
      );
      for (const p of Object.values(f)) await Deno.remove(p).catch(() => {});
    });
    let m = 0;
    await measure("the daemon's exec code, in this process", args.calls, async () => {
      const f = {
        processFile: `${scratch}/q${m}.json`,
        pidFile: `${scratch}/q${m}.pid`,
        logFile: `${scratch}/q${m}.log`,
        runtimeLog: `${scratch}/q${m}.rlog`,
      };
      m++;
      await denoHost.writeFile(
        f.processFile,
        JSON.stringify({ ...spec.process, args: ["true"], terminal: false }),
        { scratch: true },
      );
      await runExecSync(denoHost, {
        conmonPath: "/usr/bin/conmon",
        conmonEnv: {},
        runtimePath: runtime,
        runtimeRoot: root,
        containerId: id,
        files: f,
        timeoutSeconds: 10,
      });
      for (const p of Object.values(f)) await denoHost.remove(p);
    });
    await measure(
      `${args.runtime} exec alone`,
      args.calls,
      () => run(runtime, ["--root", root, "exec", id, "true"]),
    );
    await c.call("RuntimeService", "StopPodSandbox", { podSandboxId });
    await c.call("RuntimeService", "RemovePodSandbox", { podSandboxId });
  } finally {
    for (const u of undo.reverse()) await u().catch((e) => say(`cleanup: ${e}`));
  }
}

if (import.meta.main) await main();
