import { assert, assertEquals, assertRejects } from "../../testing/asserts.ts";
import { type Config, defaultConfig } from "../../config/options.ts";
import type { ImageRecord } from "../../image/image_store.ts";
import { Logger } from "../../log.ts";
import type { OciRuntime } from "../../oci/runtime.ts";
import type { HostFacts } from "../../oci/spec/build.ts";
import type { OciSpec } from "../../oci/spec/types.ts";
import { FakeHost } from "../../testing/fake_host.ts";
import { Rollback } from "../../util/rollback.ts";
import type { InfraMeta } from "./infra.ts";
import { infraArgs, InfraContainers, type InfraDeps, infraUser } from "./infra_container.ts";
import type { PodMeta } from "./pod_state.ts";

Deno.test("infraUser(): the image's numeric user and group; root for names or none", () => {
  assertEquals(infraUser({ User: "65535:65535" }), { uid: 65535, gid: 65535 });
  assertEquals(infraUser({ User: "1000" }), { uid: 1000, gid: 1000 });
  assertEquals(infraUser({ User: "nobody" }), { uid: 0, gid: 0 });
  assertEquals(infraUser({}), { uid: 0, gid: 0 });
});

Deno.test("infraArgs(): pause_command wins; empty takes the image's entrypoint and command", () => {
  const image = { Entrypoint: ["/pause"], Cmd: ["-v"] };
  assertEquals(infraArgs("/bin/pause", image), ["/bin/pause"]);
  assertEquals(infraArgs("", image), ["/pause", "-v"]);
  assertEquals(infraArgs("", {}), []);
});

interface Fixture {
  dir: string;
  host: FakeHost;
  infra: InfraContainers;
  config: Config;
  pulls: { image: string; authFile?: string }[];
  runtime: { calls: string[]; failCreate: boolean; spec?: OciSpec };
  stored: Set<string>;
}

const IMAGE_ID = "a".repeat(64);

async function fixture(): Promise<Fixture> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "infra-unit-" }));
  const host = new FakeHost();
  const config = defaultConfig();
  config.runtime.container_attach_socket_dir = `${dir}/attach`;
  const pulls: Fixture["pulls"] = [];
  const stored = new Set<string>();
  const record = { id: IMAGE_ID, repoTags: [config.image.pause_image] } as ImageRecord;
  const rt: Fixture["runtime"] = { calls: [], failCreate: false };
  const runtime = {
    exitFile: (id: string) => `${dir}/exits/${id}`,
    create: (req: { spec: OciSpec }) => {
      rt.calls.push("create");
      rt.spec = req.spec;
      if (rt.failCreate) return Promise.reject(new Error("injected create failure"));
      return Promise.resolve({ pid: 77, conmonPid: 76 });
    },
    start: () => Promise.resolve(void rt.calls.push("start")),
    stop: () => Promise.resolve(void rt.calls.push("stop")),
    delete: () => Promise.resolve(void rt.calls.push("delete")),
    state: () => Promise.resolve({ status: "running" }),
  };
  const infra = new InfraContainers({
    config: () => config,
    images: {
      find: (ref: string) => (stored.has(ref) || ref === IMAGE_ID ? record : undefined),
      pull: (image: string, o: { authFile?: string }) => {
        pulls.push({ image, authFile: o.authFile });
        stored.add(image);
        return Promise.resolve(record);
      },
      imageConfig: () => Promise.resolve({ Entrypoint: ["/pause"], User: "65535:65535" }),
      layerDirs: () => [`${dir}/layers/0`],
    } as unknown as InfraDeps["images"],
    runtime: () => runtime as unknown as OciRuntime,
    facts: () => Promise.resolve({ daemonOomScoreAdj: 0, canLowerOomScore: true } as HostFacts),
    mounts: { runner: host.runner, mount: "/usr/bin/mount", mounter: host.mounter },
    storageRoot: `${dir}/state`,
    log: new Logger({ sink: { write() {} } }),
  });
  return { dir, host, infra, config, pulls, runtime: rt, stored };
}

function podMeta(dir: string, infra: InfraMeta): PodMeta {
  const id = "b".repeat(64);
  return {
    id,
    name: "k8s_web_ns_uid_0",
    requestHash: "",
    createdAt: "1700000000000000000",
    config: {},
    runtimeHandler: "runc",
    modes: { network: 0, pid: 0, ipc: 0 },
    nsPaths: { net: `${dir}/ns/net`, ipc: `${dir}/ns/ipc`, uts: `${dir}/ns/uts` },
    hostname: "web",
    runDir: `${dir}/run/${id}`,
    shmPath: `${dir}/run/${id}/shm`,
    cgroupParent: "/kubepods",
    cgroupPath: "/kubepods",
    infra,
  };
}

/** Mounts, and what is left in the pod's run and state dirs (the pod's own steps own those). */
async function leftovers(f: Fixture, meta: PodMeta): Promise<string[]> {
  const out = [...f.host.mounts];
  for (const d of [meta.runDir, `${f.dir}/state/${meta.id}`]) {
    try {
      for await (const e of Deno.readDir(d)) out.push(`${d}/${e.name}`);
    } catch { /* never created */ }
  }
  return out;
}

Deno.test("InfraContainers.prepare(): pulls pause_image once with pause_image_auth_file", async () => {
  const f = await fixture();
  f.config.image.pause_image_auth_file = "/etc/crio/pause-auth.json";
  const first = await f.infra.prepare({ newPidNamespace: true });
  assertEquals(first, {
    image: f.config.image.pause_image,
    imageId: IMAGE_ID,
    args: ["/pause"],
    newPidNamespace: true,
  });
  await f.infra.prepare({ newPidNamespace: true });
  assertEquals(f.pulls, [{
    image: f.config.image.pause_image,
    authFile: "/etc/crio/pause-auth.json",
  }]);
  await Deno.remove(f.dir, { recursive: true });
});

Deno.test("InfraContainers.start(): rootfs, spec, create, start; a failure leaves nothing", async () => {
  const f = await fixture();
  const meta = podMeta(f.dir, await f.infra.prepare({ newPidNamespace: true }));
  f.runtime.failCreate = true;
  const rb = new Rollback();
  await assertRejects(() => f.infra.start(meta, rb), Error, "injected create failure");
  await rb.run();
  assertEquals(await leftovers(f, meta), []);
  assertEquals(f.runtime.calls, ["create", "delete"]);
  f.runtime.failCreate = false;
  f.runtime.calls.length = 0;
  assertEquals(await f.infra.start(meta, new Rollback()), 77);
  assertEquals(f.runtime.calls, ["create", "start"]);
  const spec = f.runtime.spec!;
  assertEquals(spec.root.path, `${meta.runDir}/infra-rootfs`);
  assertEquals(spec.process.user, { uid: 65535, gid: 65535 });
  assertEquals(spec.process.oomScoreAdj, -998);
  assert(f.host.mounts.has(`${meta.runDir}/infra-rootfs`), "rootfs mounted");
  await f.infra.stop(meta);
  await f.infra.remove(meta);
  assertEquals(await leftovers(f, meta), []);
  await Deno.remove(f.dir, { recursive: true });
});
