/**
 * The pod infra container through the daemon (bin/crio, as a node runs it): the pause image comes
 * from a local registry through a registries.conf rewrite of registry.k8s.io (the default
 * pause_image, as the harness serves it), a pod sharing its PID namespace runs two containers
 * that see the pause process as PID 1 and each other's processes, orphans are reaped, the pause
 * image cannot be removed while the pod exists, and stop/remove leave no process, mount, runtime
 * state or dir. Host network, so the test needs no bridge of its own.
 */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../src/testing/asserts.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { cacheDir, k8sMinor } from "../src/cri/k8s_versions.ts";
import { NamespaceMode, SecurityProfile_ProfileType } from "../src/cri/gen/api.ts";
import { startRegistry } from "./registry.ts";
import { startDaemon } from "./daemon.ts";
import { mountTargets, unmountUnder } from "./leaks.ts";
import { registriesConf } from "./images/critest_images.ts";
import { pauseBinary } from "./images/elf.ts";
import { buildLayer } from "./images/layer.ts";
import { buildImage } from "./images/oci.ts";
import { pushImage } from "./images/pusher.ts";
import { busyboxRootfs } from "./images/rootfs.ts";

const canRun = Deno.uid() === 0 && (() => {
  try {
    return Deno.statSync("/usr/bin/docker-registry").isFile;
  } catch {
    return false;
  }
})();

const decoder = new TextDecoder();

async function pushTestImages(host: string): Promise<void> {
  const pause = await buildLayer([{
    type: "file",
    path: "pause",
    mode: 0o755,
    data: pauseBinary(),
  }]);
  await pushImage(
    { registry: host, repo: "pause" },
    await buildImage([pause], { entrypoint: ["/pause"], user: "65535:65535" }),
    { tags: ["3.10.1"] },
  );
  const busybox = await buildLayer(await busyboxRootfs());
  await pushImage(
    { registry: host, repo: "busybox" },
    await buildImage([busybox], { cmd: ["sh"] }),
    { tags: ["1"] },
  );
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** Polls get() until ok() holds or 3 s pass; returns the last value. */
async function eventually<T>(get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  // Generous: on a loaded 2-core node conmon's exit can trail the RPC by seconds.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function alive(pid: number): Promise<boolean> {
  return (await new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" }).output())
    .success;
}

type Client = CriTestClient;

async function runContainer(c: Client, o: { pod: string; podConfig: unknown; name: string }) {
  const created = await c.call<{ containerId: string }>("RuntimeService", "CreateContainer", {
    podSandboxId: o.pod,
    sandboxConfig: o.podConfig,
    config: {
      metadata: { name: o.name },
      image: { image: "registry.k8s.io/busybox:1" },
      command: ["sleep", o.name === "a" ? "1001" : "1002"],
      linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.POD } } },
    },
  });
  await c.call("RuntimeService", "StartContainer", { containerId: created.containerId });
  return created.containerId;
}

async function exec(c: Client, id: string, cmd: string[]): Promise<string> {
  const r = await c.call<{ stdout: Uint8Array; exitCode: number }>("RuntimeService", "ExecSync", {
    containerId: id,
    cmd,
    timeout: 10,
  });
  assertEquals(r.exitCode ?? 0, 0, `${cmd.join(" ")} failed`);
  return decoder.decode(r.stdout);
}

/** What a removed pod must not leave: dirs, exit file, attach dir, runtime state, mounts. */
async function assertNothingLeft(dir: string, pod: string, runtime = "runc"): Promise<void> {
  assertEquals(await names(`${dir}/run/pods`), [], "no pod run dir");
  assertEquals(await names(`${dir}/root/pods`), [], "no pod state dir");
  assertEquals(await names(`${dir}/exits`), [], "no exit file");
  // conmon unlinks its own attach link when it exits, which can trail the RPC under load.
  const attach = await eventually(() => names(`${dir}/attach`), (l) => l.length === 0);
  assertEquals(attach, [], `no attach link (left: ${attach.join(", ")})`);
  const state = await new Deno.Command(runtime, {
    args: ["--root", `/run/${runtime}`, "state", pod],
  })
    .output();
  assert(!state.success, `${runtime} no longer knows the infra container`);
  const left = [...await mountTargets()].filter((m) =>
    m.startsWith(`${dir}/`) && !m.startsWith(`${dir}/ns`)
  );
  assertEquals(left, [], "no mount but the namespaces dir");
}

function sharedPodConfig(name: string) {
  return {
    metadata: { name, namespace: "infra-test", uid: `uid-${name}`, attempt: 0 },
    linux: {
      securityContext: {
        namespaceOptions: { network: NamespaceMode.NODE, pid: NamespaceMode.POD },
        // The infra gets the pod's seccomp choice: the default filter must let pause run.
        seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault },
      },
    },
  };
}

/** PodSandboxStatus: the CRI state (0 ready, 1 not ready) and the verbose infra entry. */
async function podStatus(c: Client, pod: string) {
  const r = await c.call<{ status: { state: number }; info: Record<string, string> }>(
    "RuntimeService",
    "PodSandboxStatus",
    { podSandboxId: pod, verbose: true },
  );
  return { state: r.status.state ?? 0, infra: JSON.parse(r.info.info!).infraContainer };
}

async function runPod(c: Client, config: unknown): Promise<string> {
  const r = await c.call<{ podSandboxId: string }>("RuntimeService", "RunPodSandbox", { config });
  return r.podSandboxId;
}

/** crictl as built for the harness; its exit status is not checked (prune may skip images). */
async function crictl(socket: string, args: string[]): Promise<void> {
  const bin = `${cacheDir()}/cri-tools/${k8sMinor("1.37").criTools}/crictl`;
  await new Deno.Command(bin, {
    args: ["--runtime-endpoint", `unix://${socket}`, ...args],
    stdout: "null",
    stderr: "null",
  }).output();
}

async function checkSharedPod(c: Client, o: { dir: string; socket: string }) {
  const { dir, socket } = o;
  const podConfig = sharedPodConfig("shared");
  const pod = await runPod(c, podConfig);
  const { infra } = await podStatus(c, pod);
  assert(infra.pid > 0, `infra pid in verbose info: ${JSON.stringify(infra)}`);
  assertEquals(infra.command, ["/pause"]);
  const proc = await new Deno.Command("cat", { args: [`/proc/${infra.pid}/status`] }).output();
  const st = decoder.decode(proc.stdout);
  for (
    const line of [/^CapEff:\s+0+$/m, /^NoNewPrivs:\s+1$/m, /^Seccomp:\s+2$/m, /^Uid:\s+65535\b/m]
  ) {
    assert(line.test(st), `pause runs with ${line}:\n${st}`);
  }
  await c.call("ImageService", "PullImage", { image: { image: "registry.k8s.io/busybox:1" } });
  const a = await runContainer(c, { pod, podConfig, name: "a" });
  const b = await runContainer(c, { pod, podConfig, name: "b" });
  assertEquals(await exec(c, a, ["cat", "/proc/1/cmdline"]), "/pause\0");
  const ps = await exec(c, b, ["ps", "-o", "pid,args"]);
  assertStringIncludes(ps, "sleep 1001");
  assertStringIncludes(ps, "sleep 1002");
  assertStringIncludes(ps, "/pause");
  // An orphan is re-parented to the namespace's init, pause, which must reap it.
  await exec(c, a, ["sh", "-c", "sleep 0.2 &"]);
  await new Promise((r) => setTimeout(r, 1000));
  const stats = await exec(c, b, ["ps", "-o", "stat,args"]);
  assert(!/^\s*Z/m.test(stats), `no zombie left:\n${stats}`);
  const err = await assertRejects(() =>
    c.call("ImageService", "RemoveImage", { image: { image: infra.imageId } })
  );
  assertStringIncludes(String(err), "in use");
  await crictl(socket, ["rmi", "--prune"]);
  const kept = await c.call<{ image?: { id: string } }>("ImageService", "ImageStatus", {
    image: { image: infra.imageId },
  });
  assertEquals(kept.image?.id, infra.imageId, "rmi --prune keeps the pause image");
  await c.call("RuntimeService", "StopPodSandbox", { podSandboxId: pod });
  assert(!(await alive(infra.pid)), "the pause process is gone after StopPodSandbox");
  await c.call("RuntimeService", "RemovePodSandbox", { podSandboxId: pod });
  await assertNothingLeft(dir, pod);
}

/** A daemon (bin/crio) on its own dir and registry; restart() kills the last one with SIGKILL. */
interface Fixture {
  dir: string;
  restart(): Promise<Client>;
  /** SIGKILL, as a crash: conmon and the pods' processes live on. */
  kill(): Promise<void>;
}

async function withDaemon(runtime: string, fn: (f: Fixture) => Promise<void>): Promise<void> {
  const registry = await startRegistry();
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "pod-infra-test-" }));
  const state: { c?: Client; d?: Awaited<ReturnType<typeof startDaemon>> } = {};
  const conf = `${dir}/registries.conf`;
  const kill = async () => {
    state.c?.close();
    if (!state.d) return;
    Deno.kill(state.d.child.pid, "SIGKILL");
    await state.d.child.status;
    state.d = undefined;
  };
  const restart = async () => {
    await kill();
    // A killed daemon's socket is stale; startDaemon waits for the new one to appear.
    await Deno.remove(`${dir}/crio.sock`).catch(() => {});
    state.d = await startDaemon(dir, { runtime, k8s: "1.37", registriesConf: conf });
    return state.c = new CriTestClient(state.d.socket, loadSchema());
  };
  try {
    await pushTestImages(registry.host);
    await Deno.writeTextFile(conf, registriesConf(["registry.k8s.io"], registry.host));
    await fn({ dir, restart, kill });
  } finally {
    state.c?.close();
    await state.d?.child.stop(15_000);
    await unmountUnder(dir);
    await registry.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

const integration = { ignore: !canRun, sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "a PID-shared pod: pause is PID 1 for both containers; stop and remove leave nothing",
  ...integration,
  fn: () =>
    withDaemon("runc", async (f) => {
      await checkSharedPod(await f.restart(), { dir: f.dir, socket: `${f.dir}/crio.sock` });
    }),
});

Deno.test({
  name: "restart: a running infra is kept, one that exited while the daemon was down is not ready",
  ...integration,
  fn: () =>
    withDaemon("crun", async (f) => {
      let c = await f.restart();
      const pod = await runPod(c, sharedPodConfig("kept"));
      const before = await podStatus(c, pod);
      c = await f.restart();
      const after = await podStatus(c, pod);
      assertEquals(after.state, 0, "still ready after a restart");
      assertEquals(after.infra.pid, before.infra.pid);
      assert(await alive(before.infra.pid), "the pause process outlived the daemon");
      await f.kill();
      await new Deno.Command("kill", { args: ["-9", String(before.infra.pid)] }).output();
      c = await f.restart();
      assertEquals((await podStatus(c, pod)).state, 1, "not ready: its infra exited meanwhile");
      await c.call("RuntimeService", "StopPodSandbox", { podSandboxId: pod });
      await c.call("RuntimeService", "RemovePodSandbox", { podSandboxId: pod });
      await assertNothingLeft(f.dir, pod, "crun");
    }),
});
