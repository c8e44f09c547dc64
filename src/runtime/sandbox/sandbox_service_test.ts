/** The sandbox service against a fake host: no root, no real namespaces or plugins. */
import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "../../testing/asserts.ts";
import { FakeHost } from "../../testing/fake_host.ts";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../../errors.ts";
import { FdSocket, SOCK_STREAM } from "../../util/fd_socket.ts";
import { Logger } from "../../log.ts";
import { CniInvoker } from "../../net/cni_attach.ts";
import { parseCniConfig } from "../../net/cni_config.ts";
import { NamespaceManager } from "../../net/namespaces.ts";
import { NamespaceMode, PodSandboxState, type RunPodSandboxRequest } from "../../cri/gen/api.ts";
import type { SandboxDeps } from "./deps.ts";
import { PodFiles } from "./pod_files.ts";
import { SandboxService } from "./sandbox_service.ts";
import { restorePods } from "./sandbox_restore.ts";
import { SandboxStore } from "./sandbox_store.ts";

const NET = parseCniConfig(
  "/x/10-fake.conflist",
  JSON.stringify({
    cniVersion: "1.0.0",
    name: "fake",
    plugins: [{ type: "bridge" }, { type: "portmap", capabilities: { portMappings: true } }],
  }),
);

async function setup() {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "sandbox-unit-" }));
  const host = new FakeHost();
  const namespaces = new NamespaceManager({
    dir: `${dir}/ns`,
    runner: host.runner,
    mountPoints: host.mountPoints,
    mounter: host.mounter,
  });
  await namespaces.prepare();
  await Deno.mkdir(`${dir}/run`);
  const dials: { netns?: string; port: number }[] = [];
  const podEnds: FdSocket[] = [];
  const deps: SandboxDeps = {
    store: new SandboxStore(`${dir}/state`),
    namespaces,
    files: new PodFiles({ mounter: host.mounter, hostResolvConf: `${dir}/none` }),
    cni: new CniInvoker({ runner: host.runner, pluginDirs: ["/fake/cni"], fs: host.cniFs }),
    network: () => ({ ready: true, network: NET }),
    mountPoints: host.mountPoints,
    dialer: {
      dial: (r) => {
        dials.push(r);
        const [ours, pod] = FdSocket.pair(SOCK_STREAM);
        podEnds.push(pod);
        return Promise.resolve(ours);
      },
    },
    runRoot: `${dir}/run`,
    log: new Logger({ sink: { write() {} } }),
  };
  const service = new SandboxService({
    deps,
    planContext: () => ({
      handlers: new Set(["runc", "crun"]),
      defaultRuntime: "runc",
      cgroupDriver: "cgroupfs",
      defaultSysctls: [],
      nodeHostname: "node",
    }),
  });
  const leaks = async () => {
    const pins = [...host.mounts].filter((m) => !m.endsWith("ns"));
    const files: string[] = [];
    for (const d of ["state", "run", "ns/netns", "ns/ipcns", "ns/utsns"]) {
      try {
        for await (const e of Deno.readDir(`${dir}/${d}`)) files.push(`${d}/${e.name}`);
      } catch { /* never created */ }
    }
    return [...pins, ...files];
  };
  return { dir, host, deps, service, leaks, dials, podEnds };
}

function req(name = "web", extra: Record<string, unknown> = {}): RunPodSandboxRequest {
  return {
    config: {
      metadata: { name, namespace: "ns1", uid: `uid-${name}`, attempt: 0 },
      hostname: "web-host",
      labels: { app: name },
      portMappings: [{ containerPort: 80, hostPort: 8080 }],
      ...extra,
    },
  };
}

Deno.test("SandboxService.run() pins namespaces, attaches lo and eth0, and is ready", async () => {
  const t = await setup();
  const id = await t.service.run(req());
  const pod = t.service.get(id.slice(0, 12));
  assertEquals(pod.status, { state: "ready", ips: ["10.99.0.2"] });
  assertEquals(t.host.cniCalls(), ["ADD lo", "ADD eth0", "ADD eth0"]);
  const portmap = t.host.calls.filter((c) => c.stdin?.includes('"portmap"'))[0]!;
  assertStringIncludes(portmap.stdin!, '"runtimeConfig":{"portMappings":[{"hostPort":8080');
  assertStringIncludes(portmap.stdin!, '"prevResult"');
  assertEquals(
    portmap.env.CNI_ARGS,
    `IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${id};` +
      "K8S_POD_UID=uid-web",
  );
  assertEquals(portmap.env.CNI_IFNAME, "eth0");
  assertEquals(portmap.env.CNI_NETNS, pod.meta.nsPaths.net);
  assertEquals(await Deno.readTextFile(`${pod.meta.runDir}/hostname`), "web-host\n");
  await t.service.remove(id);
  assertEquals(await t.leaks(), []);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("SandboxService.run() retried with the same config returns the same pod", async () => {
  const t = await setup();
  const [a, b] = await Promise.all([t.service.run(req()), t.service.run(req())]);
  assertEquals(a, b);
  assertEquals(await t.service.run(req()), a);
  await assertRejects(
    () => t.service.run(req("web", { hostname: "other" })),
    AlreadyExistsError,
    "is reserved for",
  );
  await t.service.remove(a);
  await t.service.remove(a);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("SandboxService.stop() and remove() are idempotent and accept unknown ids", async () => {
  const t = await setup();
  await t.service.stop("0123456789abcdef");
  await t.service.remove("0123456789abcdef");
  const id = await t.service.run(req());
  await t.service.stop(id);
  await t.service.stop(id);
  assertEquals(t.service.get(id).status.state, "notready");
  assertEquals(t.host.cniCalls().filter((c) => c.startsWith("DEL")), [
    "DEL eth0",
    "DEL eth0",
    "DEL lo",
  ]);
  await t.service.remove(id);
  assertEquals(await t.leaks(), []);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("SandboxService.run() leaves nothing behind when any step fails", async () => {
  for (
    const step of [
      /unshare/,
      /-t tmpfs/,
      /loopback.*ADD|cni\/loopback ADD/,
      /bridge ADD/,
      /portmap ADD/,
    ]
  ) {
    const t = await setup();
    t.host.failOn = step;
    await assertRejects(() => t.service.run(req()));
    assertEquals(await t.leaks(), [], `leak after failure at ${step}`);
    const adds = t.host.cniCalls().filter((c) => c.startsWith("ADD")).length;
    const dels = t.host.cniCalls().filter((c) => c.startsWith("DEL")).length;
    assert(dels >= Math.min(adds, 1) || adds === 0, `CNI DEL after failure at ${step}`);
    t.host.failOn = undefined;
    await t.service.remove(await t.service.run(req()));
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("SandboxService.run() refuses bad sysctls, handlers and metadata before any effect", async () => {
  const t = await setup();
  const bad: [RunPodSandboxRequest, string][] = [
    [req("a", { linux: { sysctls: { "net.ipv4.ip_forward": "1+kernel.core_pattern=x" } } }), "+"],
    [req("a", { linux: { sysctls: { "kernel.shm_rmid_forced": "1\n" } } }), "invalid value"],
    [req("a", { linux: { sysctls: { "kernel.core_pattern": "x" } } }), "not a namespaced"],
    [{ ...req("a"), runtimeHandler: "kata" }, 'runtime handler "kata" is not configured'],
    [req("../../etc"), "metadata.name"],
  ];
  for (const [r, msg] of bad) {
    const err = await assertRejects(() => t.service.run(r), InvalidArgumentError);
    assertStringIncludes(err.message, msg === "+" ? "sysctl" : msg);
  }
  assertEquals(t.host.calls.filter((c) => !c.cmd.endsWith("mount")), []);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("SandboxService.list() filters by id prefix, state and labels", async () => {
  const t = await setup();
  const a = await t.service.run(req("a"));
  const b = await t.service.run(req("b"));
  await t.service.stop(b);
  assertEquals(t.service.list({ id: a.slice(0, 6) }).map((p) => p.id), [a]);
  const ready = t.service.list({ state: { state: PodSandboxState.SANDBOX_READY } });
  assertEquals(ready.map((p) => p.id), [a]);
  assertEquals(t.service.list({ labelSelector: { app: "b" } }).map((p) => p.id), [b]);
  assertEquals(t.service.list().length, 2);
  for (const id of [a, b]) await t.service.remove(id);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("restorePods() cleans half-made pods and marks pods without netns not ready", async () => {
  const t = await setup();
  const a = await t.service.run(req("a"));
  const b = await t.service.run(req("b"));
  await t.deps.store.records.write(a, "status", { state: "creating", ips: [] });
  t.host.mounts.delete(t.deps.namespaces.pathOf("net", b));
  const fresh = { ...t.deps, store: new SandboxStore(`${t.dir}/state`) };
  const report = await restorePods(fresh);
  assertEquals(report.cleaned, [a]);
  assertEquals(report.notReady, [b]);
  assertEquals(fresh.store.index.get(b).status.state, "notready");
  assertEquals(fresh.store.index.find(a), undefined);
  assert(!t.host.mounts.has(t.deps.namespaces.pathOf("ipc", a)), "ipc ns of a unpinned");
  await new SandboxService({ deps: fresh, planContext: () => ({}) as never }).remove(b);
  assertEquals(await t.leaks(), []);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("SandboxService.noteResources(): ready pods only; unknown ids are NotFound", async () => {
  const t = await setup();
  const id = await t.service.run(req());
  assertEquals(t.service.noteResources(id, { resources: { cpuShares: 512 } }).id, id);
  await t.service.stop(id);
  let refused = "";
  try {
    t.service.noteResources(id, {});
  } catch (err) {
    refused = (err as Error).name;
  }
  assertEquals(refused, "FailedPreconditionError");
  let missing = "";
  try {
    t.service.noteResources("0123456789abcdef", {});
  } catch (err) {
    missing = (err as Error).name;
  }
  assertEquals(missing, "NotFoundError");
  await t.service.remove(id);
  assertEquals(await t.leaks(), []);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("portForward() dials in the pod's netns (the host's for host network) and relays", async () => {
  const t = await setup();
  const enc = new TextEncoder();
  await assertRejects(
    () => t.service.portForward("feedface", { port: 80, conn: new TransformStream() }),
    NotFoundError,
  );
  const id = await t.service.run(req());
  const client = new TransformStream<Uint8Array, Uint8Array>();
  const back = new TransformStream<Uint8Array, Uint8Array>();
  const done = t.service.portForward(id, {
    port: 80,
    conn: { readable: client.readable, writable: back.writable },
  });
  const answer = new Response(back.readable).arrayBuffer();
  const w = client.writable.getWriter();
  await w.write(enc.encode("GET /"));
  await w.close();
  await waitUntil(() => t.podEnds.length > 0);
  const pod = t.podEnds[0];
  assertEquals(new TextDecoder().decode((await pod.read())!), "GET /");
  assertEquals(await pod.read(), null, "the client's end half-closes the pod socket");
  await pod.write(enc.encode("200 OK"));
  await pod.close();
  await done;
  assertEquals(new TextDecoder().decode(await answer), "200 OK");
  assertEquals(t.dials, [{ netns: t.service.get(id).meta.nsPaths.net, port: 80 }]);
  await t.service.stop(id);
  await assertRejects(
    () => t.service.portForward(id, { port: 80, conn: new TransformStream() }),
    FailedPreconditionError,
  );
  const hostNet = await t.service.run(req("hn", {
    linux: { securityContext: { namespaceOptions: { network: NamespaceMode.NODE } } },
  }));
  const abort = new AbortController();
  const pending = t.service.portForward(hostNet, {
    port: 8080,
    conn: new TransformStream(),
    signal: abort.signal,
  });
  abort.abort();
  await pending;
  assertEquals(t.dials[1], { netns: undefined, port: 8080 });
  for (const p of t.podEnds) await p.close();
  await t.service.remove(id);
  await t.service.remove(hostNet);
  await Deno.remove(t.dir, { recursive: true });
});

async function waitUntil(cond: () => boolean) {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
}
