/**
 * Restart safety through the daemon (bin/crio, as a node runs it), the acceptance of issue #5:
 * a pod with a running, an exited and a created container survives SIGTERM and a restart with the
 * same states, IP and times; then a kill -9 of the daemon while the running container's process
 * is killed too: after the restart that container shows exited with its exit code. On the way,
 * GetContainerEvents is watched by two subscribers. Ends with a leak check: no mount under the
 * daemon's dir, no conmon or runtime state left for its containers.
 */
import { assert, assertEquals } from "../src/testing/asserts.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { ContainerEventType as E, NamespaceMode } from "../src/cri/gen/api.ts";
import type { ContainerEventResponse, ContainerStatus } from "../src/cri/gen/api.ts";
import { startRegistry } from "./registry.ts";
import { type DaemonUnderTest, startDaemon } from "./daemon.ts";
import { mountTargets } from "./leaks.ts";
import { pushImage } from "./images/pusher.ts";
import { buildLayer } from "./images/layer.ts";
import { buildImage } from "./images/oci.ts";
import { busyboxRootfs } from "./images/rootfs.ts";

const canRun = Deno.uid() === 0 && [
  "/usr/bin/docker-registry",
  "/usr/sbin/runc",
  "/usr/bin/conmon",
].every((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

async function until(what: string, cond: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Fixture {
  dir: string;
  opts: { runtime: string; k8s: string; registriesConf: string };
  ref: string;
}

/** Starts (or restarts) the daemon on the fixture's dir and waits until it answers. */
async function daemon(f: Fixture): Promise<{ d: DaemonUnderTest; c: CriTestClient }> {
  const d = await startDaemon(`${f.dir}/d`, f.opts);
  const c = new CriTestClient(d.socket, loadSchema());
  // A killed daemon's socket file is still there: wait for the new daemon to answer on it.
  await until("the daemon", () => c.call("RuntimeService", "Version").then(() => true));
  return { d, c };
}

const podConfig = (dir: string) => ({
  metadata: { name: "restart", namespace: "it", uid: "uid-restart", attempt: 0 },
  logDirectory: `${dir}/logs/pod`,
  linux: {},
});

function ctrConfig(name: string, ref: string, script: string) {
  return {
    metadata: { name, attempt: 0 },
    image: { image: ref },
    command: ["/bin/sh", "-c", script],
    logPath: `${name}.log`,
    // The kubelet's default (no shareProcessNamespace). With the pod's PID namespace, whose PID 1
    // is its first container until pods have an infra process (#4), killing the running
    // container below would take the created one's `runc init` with it.
    linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.CONTAINER } } },
  };
}

/** Everything `crictl ps -a` / `pods` / `inspect` show that must survive a restart. */
async function snapshot(c: CriTestClient, podId: string) {
  const pod = await c.call<
    { status: { state: number; createdAt: unknown; network: { ip: string } } }
  >(
    "RuntimeService",
    "PodSandboxStatus",
    { podSandboxId: podId },
  );
  const list = await c.call<{ containers: { id: string }[] }>(
    "RuntimeService",
    "ListContainers",
    {},
  );
  const ctrs: Record<string, unknown>[] = [];
  for (const { id } of list.containers) {
    const { status: s } = await c.call<{ status: ContainerStatus }>(
      "RuntimeService",
      "ContainerStatus",
      { containerId: id },
    );
    ctrs.push({
      name: s.metadata?.name,
      state: s.state,
      createdAt: s.createdAt,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      exitCode: s.exitCode,
      reason: s.reason,
    });
  }
  ctrs.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  const p = pod.status;
  return { pod: { state: p.state, createdAt: p.createdAt, ip: p.network.ip }, ctrs };
}

/** Collects GetContainerEvents until the stream ends; `until` resolves once `want` are seen. */
function watch(c: CriTestClient, signal: AbortSignal) {
  const seen: ContainerEventResponse[] = [];
  const done = (async () => {
    for await (
      const ev of c.stream<ContainerEventResponse>("RuntimeService", "GetContainerEvents", {
        signal,
      })
    ) {
      seen.push(ev);
    }
  })();
  const kinds = (id: string) =>
    seen.filter((e) => e.containerId === id).map((e) => e.containerEventType);
  return { seen, done, kinds };
}

async function buildFixture(dir: string, registryHost: string): Promise<Fixture> {
  const image = await buildImage([await buildLayer(await busyboxRootfs())], { cmd: ["sh"] });
  await pushImage({ registry: registryHost, repo: "it/busybox" }, image, { tags: ["1"] });
  const registriesConf = `${dir}/registries.conf`;
  await Deno.writeTextFile(
    registriesConf,
    `[[registry]]\nlocation = "${registryHost}"\ninsecure = true\n`,
  );
  await Deno.mkdir(`${dir}/d/crio.conf.d`, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/d/crio.conf.d/10-events.conf`,
    "[crio.runtime]\nenable_pod_events = true\n",
  );
  return {
    dir,
    opts: { runtime: "runc", k8s: "1.37", registriesConf },
    ref: `${registryHost}/it/busybox:1`,
  };
}

/** The pod and its three containers; returns their ids once the exited one has exited. */
async function populate(c: CriTestClient, f: Fixture) {
  await c.call("ImageService", "PullImage", { image: { image: f.ref } });
  const sandboxConfig = podConfig(f.dir);
  const { podSandboxId: podId } = await c.call<{ podSandboxId: string }>(
    "RuntimeService",
    "RunPodSandbox",
    { config: sandboxConfig },
  );
  const create = async (name: string, script: string) =>
    (await c.call<{ containerId: string }>("RuntimeService", "CreateContainer", {
      podSandboxId: podId,
      config: ctrConfig(name, f.ref, script),
      sandboxConfig,
    })).containerId;
  const running = await create("running", "sleep 3600");
  const exited = await create("exited", "exit 3");
  const created = await create("created", "true");
  await c.call("RuntimeService", "StartContainer", { containerId: running });
  await c.call("RuntimeService", "StartContainer", { containerId: exited });
  await until("the exited container", async () => {
    const { status } = await c.call<{ status: ContainerStatus }>(
      "RuntimeService",
      "ContainerStatus",
      { containerId: exited },
    );
    return status.exitCode === 3;
  });
  return { podId, running, exited, created };
}

function checkEvents(w: ReturnType<typeof watch>, ids: Awaited<ReturnType<typeof populate>>) {
  assertEquals(w.kinds(ids.podId), [E.CONTAINER_CREATED_EVENT, E.CONTAINER_STARTED_EVENT]);
  assertEquals(w.kinds(ids.running), [E.CONTAINER_CREATED_EVENT, E.CONTAINER_STARTED_EVENT]);
  assertEquals(w.kinds(ids.created), [E.CONTAINER_CREATED_EVENT]);
  assertEquals(w.kinds(ids.exited), [
    E.CONTAINER_CREATED_EVENT,
    E.CONTAINER_STARTED_EVENT,
    E.CONTAINER_STOPPED_EVENT,
  ]);
  const stopped = w.seen.find((e) => e.containerEventType === E.CONTAINER_STOPPED_EVENT)!;
  assertEquals(stopped.podSandboxStatus?.id, ids.podId);
  const mine = stopped.containersStatuses?.find((s) => s.id === ids.exited);
  assertEquals(mine?.exitCode, 3, "the event carries the container's status as it exited");
  assertEquals(stopped.containersStatuses?.length, 3);
}

async function leftovers(dir: string, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const m of await mountTargets()) if (m.startsWith(`${dir}/`)) out.push(`mount ${m}`);
  const ps = await new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" }).output();
  for (const line of new TextDecoder().decode(ps.stdout).split("\n")) {
    if (line.startsWith("/usr/bin/conmon") && ids.some((id) => line.includes(id))) {
      out.push(`process ${line.slice(0, 120)}`);
    }
  }
  const rl = await new Deno.Command("runc", {
    args: ["list", "-q"],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  for (const id of new TextDecoder().decode(rl.stdout).split("\n")) {
    if (ids.includes(id)) out.push(`runc state ${id}`);
  }
  return out;
}

Deno.test({
  name: "restart: SIGTERM and kill -9 keep pods and containers, their states, IPs, times and exits",
  ignore: !canRun,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const registry = await startRegistry();
    const dir = await Deno.makeTempDir({ prefix: "restart-test-" });
    const f = await buildFixture(dir, registry.host);
    let ids: Awaited<ReturnType<typeof populate>> | undefined;
    let live: { d: DaemonUnderTest; c: CriTestClient } | undefined;
    try {
      live = await daemon(f);
      const cancel = new AbortController();
      const [w1, w2] = [watch(live.c, cancel.signal), watch(live.c, cancel.signal)];
      ids = await populate(live.c, f);
      await until("the events", () => Promise.resolve(w1.seen.length >= 8 && w2.seen.length >= 8));
      checkEvents(w1, ids);
      assertEquals(w2.seen, w1.seen, "every subscriber gets every event");
      const before = await snapshot(live.c, ids.podId);
      assertEquals(before.ctrs.map((c) => [c.name, c.state, c.exitCode]), [
        ["created", 0, 0],
        ["exited", 2, 3],
        ["running", 1, 0],
      ]);
      assert(before.pod.ip.length > 0, "the pod has an IP");

      // SIGTERM: the event streams end cleanly, the daemon exits, a restart shows the same.
      const t0 = Date.now();
      await live.d.child.stop();
      await Promise.all([w1.done, w2.done]);
      assert(Date.now() - t0 < 5_000, "open event streams do not hold the shutdown");
      live.c.close();
      live = await daemon(f);
      assertEquals(await snapshot(live.c, ids.podId), before);

      // kill -9 of the daemon, and of the running container's process while it is down.
      const { info } = await live.c.call<{ info: { info: string } }>(
        "RuntimeService",
        "ContainerStatus",
        { containerId: ids.running, verbose: true },
      );
      const pid = JSON.parse(info.info).pid as number;
      assert(pid > 0);
      Deno.kill(live.d.child.pid, "SIGKILL");
      await live.d.child.status;
      live.c.close();
      Deno.kill(pid, "SIGKILL");
      live = await daemon(f);
      const after = await snapshot(live.c, ids.podId);
      const running = after.ctrs.find((c) => c.name === "running")!;
      assertEquals([running.state, running.exitCode, running.reason], [2, 137, "Error"]);
      assertEquals(
        after.ctrs.filter((c) => c.name !== "running"),
        before.ctrs.filter((c) => c.name !== "running"),
      );
      assertEquals(after.pod, before.pod);
      cancel.abort();

      await live.c.call("RuntimeService", "StopPodSandbox", { podSandboxId: ids.podId });
      await live.c.call("RuntimeService", "RemovePodSandbox", { podSandboxId: ids.podId });
      await live.d.child.stop();
      live.c.close();
      live = undefined;
      assertEquals(await leftovers(dir, Object.values(ids)), []);
    } finally {
      if (live) {
        await live.c.call("RuntimeService", "RemovePodSandbox", { podSandboxId: ids?.podId ?? "" })
          .catch(() => {});
        await live.d.child.stop();
        live.c.close();
      }
      await registry.stop();
      for (const m of [...await mountTargets()].filter((t) => t.startsWith(`${dir}/`)).reverse()) {
        await new Deno.Command("umount", { args: ["-l", m], stderr: "null" }).output();
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
