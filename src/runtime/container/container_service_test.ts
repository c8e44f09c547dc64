/** Lifecycle, exits and restore against a fake runtime: no root, no conmon. */
import { assert, assertEquals, assertRejects } from "../../testing/asserts.ts";
import { FailedPreconditionError, NotFoundError } from "../../errors.ts";
import { Logger } from "../../log.ts";
import { ContainerState } from "../../cri/gen/api.ts";
import { newId } from "../../storage/record_dir.ts";
import { fakeMeta, FakeRuntime, noMounts } from "../../testing/fake_containers.ts";
import { ContainerService } from "./container_service.ts";
import { restoreContainers } from "./container_restore.ts";
import { ContainerStore } from "./container_store.ts";
import type { ContainerMeta, ContainerStatusRecord } from "./container_state.ts";
import type { ContainerDeps } from "./deps.ts";

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "ctr-svc-" });
  const runtime = new FakeRuntime();
  const events: string[] = [];
  /** A container id whose memory cgroup reports an OOM kill. */
  let oomIn = "none";
  const deps = {
    store: new ContainerStore(`${dir}/state`),
    runtime: () => runtime.asRuntime(),
    config: () => ({ runtime: { container_exits_dir: `${dir}/exits` } }),
    mounts: noMounts,
    sandboxes: { list: () => [] },
    stats: {
      cgroupVersion: "v1",
      cgroupRoot: "/cg",
      readFile: (p: string) => Promise.resolve(p.includes(oomIn) ? "oom_kill 1\n" : "oom_kill 0\n"),
    },
    log: new Logger({ sink: { write() {} } }),
    events: { emit: (kind: string, o: { id: string }) => events.push(`${kind} ${o.id}`) },
  } as unknown as ContainerDeps;
  /** A container on disk and in the index, as create or restore leave it. */
  const add = async (
    status: ContainerStatusRecord,
    labels: Record<string, string> = {},
    over: Partial<ContainerMeta> = {},
  ) => {
    const id = newId();
    await deps.store.records.create(id);
    const meta = fakeMeta(id, {
      ...over,
      config: { metadata: { name: id }, labels },
      name: `k8s_${id}`,
      storageDir: `${dir}/state/${id}`,
      runDir: `${dir}/run/${id}`,
      bundle: `${dir}/run/${id}/bundle`,
      rootfs: `${dir}/run/${id}/merged`,
    });
    await deps.store.commit(await deps.store.begin(meta), status);
    deps.store.names.reserve(meta.name, { id, key: "h" });
    runtime.states.set(id, { id, pid: 9, status: status.state, bundle: meta.bundle });
    return id;
  };
  const cleanup = () => Deno.remove(dir, { recursive: true });
  const oom = (id: string) => (oomIn = id);
  return { dir, runtime, deps, add, oom, events, service: new ContainerService(deps), cleanup };
}

Deno.test("start, exit file, stop and remove follow the lifecycle; stop and remove are idempotent", async () => {
  const t = await setup();
  try {
    const id = await t.add({ state: "created", pid: 9 });
    await t.service.start(id.slice(0, 8));
    assertEquals((await t.service.get(id)).status.state, "running");
    await assertRejects(() => t.service.start(id), FailedPreconditionError);
    t.runtime.exits.set(id, { exitCode: 3, finishedAt: new Date(5), source: "exit-file" });
    const exited = await t.service.get(id);
    assertEquals([exited.status.state, exited.status.exitCode, exited.status.reason], [
      "exited",
      3,
      "Error",
    ]);
    await t.service.stop(id, 10);
    assert(
      !t.runtime.calls.some((c) => c.startsWith("stop")),
      "an exited container is not stopped",
    );
    await t.service.stop("f".repeat(64), 10);
    await t.service.remove(id);
    await t.service.remove(id);
    assertEquals(t.deps.store.index.find(id), undefined);
    assertEquals(t.deps.store.names.get(`k8s_${id}`), undefined);
  } finally {
    await t.cleanup();
  }
});

Deno.test("an exit with an OOM kill in the container's memory cgroup is OOMKilled", async () => {
  const t = await setup();
  try {
    const id = await t.add({ state: "running", pid: 9 });
    t.oom(id);
    t.runtime.exits.set(id, { exitCode: 137, finishedAt: new Date(5), source: "exit-file" });
    const c = await t.service.get(id);
    assertEquals([c.status.exitCode, c.status.reason], [137, "OOMKilled"]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("stop kills a running container with its timeout; remove stops first", async () => {
  const t = await setup();
  try {
    const a = await t.add({ state: "running", pid: 9 });
    await t.service.stop(a, 7);
    assertEquals((await t.service.get(a)).status.exitCode, 137);
    const b = await t.add({ state: "running", pid: 9 });
    await t.service.remove(b);
    assertEquals(t.runtime.calls.filter((c) => c.includes(b)), [
      `stop ${b} SIGTERM 0`,
      `delete ${b}`,
    ]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("list filters by id prefix, state, pod and labels", async () => {
  const t = await setup();
  try {
    const a = await t.add({ state: "created" }, { app: "x" });
    const b = await t.add({ state: "running" }, { app: "y" });
    const ids = async (f: Parameters<ContainerService["list"]>[0]) =>
      (await t.service.list(f)).map((c) => c.id).sort();
    assertEquals(await ids({}), [a, b].sort());
    assertEquals(await ids({ id: a.slice(0, 10) }), [a]);
    assertEquals(await ids({ state: { state: ContainerState.CONTAINER_RUNNING } }), [b]);
    assertEquals(await ids({ labelSelector: { app: "x" } }), [a]);
    assertEquals(await ids({ podSandboxId: "nope" }), []);
    assertEquals(await ids({ podSandboxId: "ppp" }), [a, b].sort());
  } finally {
    await t.cleanup();
  }
});

Deno.test("restore: exits while down are read, lost runtime state is 137, half-made is undone", async () => {
  const t = await setup();
  try {
    const exited = await t.add({ state: "running", pid: 9 });
    const lost = await t.add({ state: "running", pid: 9 });
    const alive = await t.add({ state: "running", pid: 9 });
    const half = newId();
    await t.deps.store.records.create(half);
    await t.deps.store.begin(fakeMeta(half, { rootfs: `${t.dir}/none`, bundle: `${t.dir}/nb` }));
    t.runtime.exits.set(exited, { exitCode: 0, finishedAt: new Date(9), source: "exit-file" });
    t.runtime.states.delete(lost);
    const fresh = { ...t.deps, store: new ContainerStore(`${t.dir}/state`) };
    const report = await restoreContainers(fresh);
    assertEquals(report, { restored: 3, cleaned: [half] });
    const st = (id: string) => fresh.store.index.get(id).status;
    assertEquals([st(exited).state, st(exited).reason], ["exited", "Completed"]);
    assertEquals([st(lost).state, st(lost).exitCode], ["exited", 137]);
    assertEquals(st(alive).state, "running");
    assert(fresh.store.names.get(`k8s_${alive}`));
    assertEquals(await fresh.store.records.read(half, "meta"), undefined);
  } finally {
    await t.cleanup();
  }
});

Deno.test("lifecycle events: started, stopped once whether by StopContainer or an exit, deleted", async () => {
  const t = await setup();
  try {
    const a = await t.add({ state: "created", pid: 9 });
    const b = await t.add({ state: "running", pid: 9 });
    await t.service.start(a);
    t.runtime.exits.set(a, { exitCode: 0, finishedAt: new Date(5), source: "exit-file" });
    await t.service.refresh(a);
    await t.service.refresh(a);
    await t.service.stop(b, 1);
    await t.service.refresh(b);
    await t.service.remove(a);
    await t.service.remove(a);
    assertEquals(t.events, [
      `started ${a}`,
      `stopped ${a}`,
      `stopped ${b}`,
      `deleted ${a}`,
    ]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("an image is in use as a container's image or as its image volume, until removed", async () => {
  const t = await setup();
  try {
    const mounts = [{ containerPath: "/v", image: { image: "tools:1", imageRef: "tools-id" } }];
    const id = await t.add({ state: "created", pid: 9 }, {}, { mounts });
    assert(t.service.imageInUse("i"), "the container's own image");
    assert(t.service.imageInUse("tools-id"), "the image volume's image");
    assert(!t.service.imageInUse("other"));
    await t.service.remove(id);
    assert(!t.service.imageInUse("tools-id"));
  } finally {
    await t.cleanup();
  }
});

Deno.test("exec and attach: unknown id is NotFound, a container not running a precondition", async () => {
  const t = await setup();
  try {
    const io = { tty: false };
    await assertRejects(() => t.service.exec("f".repeat(64), { cmd: ["true"], io }), NotFoundError);
    await assertRejects(() => t.service.attach("f".repeat(64), { io }), NotFoundError);
    const created = await t.add({ state: "created", pid: 9 });
    await assertRejects(
      () => t.service.exec(created, { cmd: ["true"], io }),
      FailedPreconditionError,
    );
    await assertRejects(() => t.service.attach(created, { io }), FailedPreconditionError);
    const running = await t.add({ state: "running", pid: 9 });
    assertEquals(await t.service.exec(running.slice(0, 10), { cmd: ["false"], io }), {
      exitCode: 1,
    });
    await t.service.attach(running, { io });
    assertEquals(t.runtime.calls, [`exec ${running} false`, `attach ${running}`]);
  } finally {
    await t.cleanup();
  }
});

Deno.test("list() reads exits only for containers with an exit file in the exits dir", async () => {
  const t = await setup();
  try {
    const a = await t.add({ state: "running", pid: 9 });
    const b = await t.add({ state: "running", pid: 9 });
    for (const id of [a, b]) {
      t.runtime.exits.set(id, { exitCode: 3, finishedAt: new Date(5), source: "exit-file" });
    }
    await Deno.mkdir(`${t.dir}/exits`);
    await Deno.writeTextFile(`${t.dir}/exits/${a}`, "3");
    // Names that are no container here (a removed one's, a stray file) change nothing.
    await Deno.writeTextFile(`${t.dir}/exits/${newId()}`, "0");
    await Deno.writeTextFile(`${t.dir}/exits/${a.slice(0, 12)}`, "0");
    // A filter that leaves a out leaves its exit for later.
    const other = await t.service.list({ id: b });
    assertEquals(other.map((c) => [c.id, c.status.state]), [[b, "running"]]);
    const states = Object.fromEntries((await t.service.list()).map((c) => [c.id, c.status.state]));
    assertEquals(states, { [a]: "exited", [b]: "running" });
    // ContainerStatus still asks the runtime directly, file or not.
    assertEquals((await t.service.get(b)).status.state, "exited");
  } finally {
    await t.cleanup();
  }
});
