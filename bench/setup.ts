/**
 * Starts what a run needs and takes it all down again: the local registry (bench images,
 * busybox, pause), this daemon and containerd, each on its own socket, root and CNI network.
 * Teardown removes every pod left, stops each process by PID, unmounts anything either daemon
 * left under its temp dir and the network namespaces containerd left in /run/netns, deletes the
 * dirs and the bridges, and reports mounts that leaked.
 */
import { registriesConf } from "../conformance/images/critest_images.ts";
import { mountTargets } from "../conformance/leaks.ts";
import { startRegistry } from "../conformance/registry.ts";
import { NETWORKS, removeBridge } from "./cni.ts";
import { startContainerd } from "./containerd.ts";
import { startCrio } from "./crio.ts";
import {
  benchImages,
  type BuiltBenchImage,
  IMAGE_SPECS,
  MIRRORED_HOSTS,
  pushBenchImage,
} from "./images.ts";
import { FRESH_SETTLE_MS, type ProcMem, readMem } from "./procfs.ts";
import { img, makeTarget, probeContainers, rt, type Target } from "./target.ts";

export interface Bench {
  targets: Target[];
  images: BuiltBenchImage[];
  /** Each daemon's memory right after start-up and warm-up calls, not profiled. */
  idleMem: Record<string, ProcMem>;
  /** This daemon's, read the same way on the run that --cpu-prof profiles. */
  profiledMem?: ProcMem;
  /** Problems found while tearing down (leaked mounts, stuck pods). */
  problems: string[];
}

export interface SetUpOptions {
  scratch: string;
  cpuProfDir: string;
  runtime: string;
  keep: boolean;
  log(line: string): void;
}

const ref = (key: string) => IMAGE_SPECS.find((s) => s.key === key)!.ref;

/** Removes every pod a runtime still has; returns how many there were. */
async function drain(t: Target): Promise<number> {
  const res = await rt(t, "ListPodSandbox", {});
  const items = (res.items ?? []) as { id: string }[];
  for (const p of items) {
    await rt(t, "StopPodSandbox", { podSandboxId: p.id }).catch(() => {});
    await rt(t, "RemovePodSandbox", { podSandboxId: p.id }).catch(() => {});
  }
  return items.length;
}

/**
 * containerd 1.6 pins its pods' network namespaces in /run/netns as `cni-<uuid>` (not
 * configurable). A pod whose RemovePodSandbox failed leaves its pin mounted there after the run;
 * those that appeared since `before` are unmounted and removed.
 */
async function removeNewNetns(before: Set<string>): Promise<string[]> {
  const left = [...await mountTargets()].filter((m) =>
    /^(\/var)?\/run\/netns\/cni-[0-9a-f-]+$/.test(m) && !before.has(m)
  );
  for (const m of left) {
    await new Deno.Command("umount", { args: [m], stderr: "null" }).output();
    await Deno.remove(m).catch(() => {});
  }
  return left;
}

async function unmountUnder(dir: string): Promise<string[]> {
  const left = [...await mountTargets()].filter((m) => m.startsWith(`${dir}/`));
  left.sort((a, b) => b.length - a.length);
  for (const m of left) {
    await new Deno.Command("umount", { args: ["-l", m], stderr: "null" }).output();
  }
  return left;
}

/** Runs fn with everything up; tears it all down afterwards, whatever happened. */
export async function withBench<T>(o: SetUpOptions, fn: (b: Bench) => Promise<T>): Promise<T> {
  const undo: (() => Promise<unknown>)[] = [];
  const problems: string[] = [];
  try {
    const images = await benchImages({ log: o.log });
    const registry = await startRegistry();
    undo.push(() => registry.stop());
    for (const i of images) await pushBenchImage(registry.host, i);
    o.log(`registry ${registry.host}: ${images.map((i) => i.ref).join(", ")}`);
    const conf = `${o.scratch}/registries.conf`;
    await Deno.writeTextFile(conf, registriesConf(MIRRORED_HOSTS, registry.host));

    const crioDir = await Deno.makeTempDir({ prefix: "crio-bench-" });
    const ctdDir = await Deno.makeTempDir({ prefix: "containerd-bench-" });
    for (const dir of [crioDir, ctdDir]) {
      undo.push(async () => {
        const left = await unmountUnder(dir);
        if (left.length) {
          problems.push(
            `unmounted ${left.length} mount(s) left under ${dir}: ${left.slice(0, 3).join(", ")}`,
          );
        }
        if (!o.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
      });
    }
    undo.push(() => removeBridge(NETWORKS["crio-deno"]), () => removeBridge(NETWORKS.containerd));

    // The CPU profiler's buffers and code map are not the daemon's: its fresh memory is read
    // on a first start without the profiler, on the same root, before the profiled one.
    const unprofiled = o.cpuProfDir
      ? await freshUnprofiled(crioDir, { runtime: o.runtime, registriesConf: conf })
      : undefined;
    const crio = await startCrio(crioDir, {
      network: NETWORKS["crio-deno"],
      runtime: o.runtime,
      registriesConf: conf,
      cpuProfDir: o.cpuProfDir,
    });
    undo.push(() => Deno.copyFile(`${crioDir}/crio.log`, `${o.scratch}/crio.log`).catch(() => {}));
    undo.push(() => crio.stop());
    const mountsBefore = await mountTargets();
    undo.push(async () => {
      const left = await removeNewNetns(mountsBefore);
      if (left.length) {
        problems.push(`containerd left ${left.length} netns pin(s), removed: ${left.join(", ")}`);
      }
    });
    const ctd = await startContainerd(ctdDir, {
      registryHost: registry.host,
      mirroredHosts: MIRRORED_HOSTS,
      sandboxImage: ref("pause"),
      network: NETWORKS.containerd,
      runc: "/usr/sbin/runc",
      crun: "/usr/bin/crun",
      cniBinDir: "/opt/cni/bin",
    });
    undo.push(() =>
      Deno.copyFile(`${ctdDir}/containerd.log`, `${o.scratch}/containerd.log`).catch(() => {})
    );
    undo.push(() => ctd.stop());
    o.log(
      `crio-deno pid ${crio.pid} on ${crio.socket}; containerd pid ${ctd.pid} on ${ctd.socket}`,
    );

    const targets = [makeTarget(crio), makeTarget(ctd)];
    undo.push(async () => {
      for (const t of targets) {
        const left = await drain(t).catch(() => 0);
        if (left) problems.push(`${t.name}: ${left} pod(s) left after the workloads, removed`);
        t.client.close();
      }
    });
    const bench = await ready(targets, { images, problems });
    if (unprofiled) {
      bench.profiledMem = bench.idleMem[crio.name];
      bench.idleMem[crio.name] = unprofiled;
    }
    return await fn(bench);
  } finally {
    for (const u of undo.reverse()) {
      await u().catch((err) =>
        problems.push(`teardown: ${err instanceof Error ? err.message : err}`)
      );
    }
  }
}

/** This daemon started and warmed up as ready() does, its fresh memory read, then stopped. */
async function freshUnprofiled(
  dir: string,
  o: { runtime: string; registriesConf: string },
): Promise<ProcMem | undefined> {
  const crio = await startCrio(dir, { network: NETWORKS["crio-deno"], ...o });
  const t = makeTarget(crio);
  try {
    return (await ready([t], { images: [], problems: [] })).idleMem[crio.name];
  } finally {
    t.client.close();
    await crio.stop();
  }
}

/**
 * Warms both up (first call, containerd's sandbox image, the container probe), then reads each
 * one's fresh RSS once it has settled, as the List floor's is read.
 */
async function ready(
  targets: Target[],
  o: { images: BuiltBenchImage[]; problems: string[] },
): Promise<Bench> {
  const idleMem: Record<string, ProcMem> = {};
  for (const t of targets) {
    await rt(t, "Version", {});
    if (t.name === "containerd") await img(t, "PullImage", { image: { image: ref("pause") } });
    await probeContainers(t);
    await new Promise((r) => setTimeout(r, FRESH_SETTLE_MS));
    const mem = (await readMem([t.pid])).get(t.pid);
    if (mem) idleMem[t.name] = mem;
  }
  return { targets, images: o.images, idleMem, problems: o.problems };
}
