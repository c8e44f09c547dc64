/**
 * (g) PullImage of the small, medium and large bench images from the local registry, each runtime
 * in turn (alternating first place), the image removed before and after every pull so each pull
 * downloads and unpacks everything: wall time, CPU (daemon + reaped helpers) and the daemon's
 * peak RSS (VmHWM, reset before each pull through /proc/PID/clear_refs).
 */
import { symlinkCost } from "../disk_probe.ts";
import type { BuiltBenchImage } from "../images.ts";
import { readMem, readStats, resetPeakRss } from "../procfs.ts";
import { img, type Target, timed } from "../target.ts";
import {
  alternate,
  KiB_PER_MiB,
  row,
  Samples,
  type WorkloadContext,
  type WorkloadResult,
} from "./common.ts";

async function cpuAll(t: Target): Promise<number> {
  const s = (await readStats([t.pid])).get(t.pid);
  if (!s) throw new Error(`${t.name} (pid ${t.pid}) is gone`);
  return s.user + s.system + s.childUser + s.childSystem;
}

async function pullOnce(t: Target, o: { image: BuiltBenchImage; s: Samples }): Promise<void> {
  const spec = { image: o.image.ref };
  await img(t, "RemoveImage", { image: spec });
  const store = t.socket.slice(0, t.socket.lastIndexOf("/"));
  const disk = await symlinkCost(store, PROBE);
  for (const us of disk.usPerCall) o.s.add(`${o.image.key} disk`, t.name, us);
  const peakReset = await resetPeakRss(t.pid);
  const cpu0 = await cpuAll(t);
  const [ms] = await timed(() => img(t, "PullImage", { image: spec }));
  const cpu1 = await cpuAll(t);
  const mem = (await readMem([t.pid])).get(t.pid);
  await img(t, "RemoveImage", { image: spec });
  const k = o.image.key;
  o.s.add(`${k} wall`, t.name, ms / 1000);
  o.s.add(`${k} cpu`, t.name, cpu1 - cpu0);
  if (peakReset && mem) o.s.add(`${k} peak`, t.name, mem.hwmKiB / KiB_PER_MiB);
}

const MB = 1e6;
/** Symlinks per disk probe: enough for a stable mean, few next to a pull's files. */
const PROBE = { batches: 1, perBatch: 100 };

export async function pull(ctx: WorkloadContext): Promise<WorkloadResult> {
  const s = new Samples();
  const images = ctx.images.filter((i) => ["small", "medium", "large"].includes(i.key));
  for (const image of images) {
    for (let rep = 0; rep < ctx.pullReps; rep++) {
      for (const t of alternate(ctx.targets, rep)) await pullOnce(t, { image, s });
    }
    ctx.log(`  pulled ${image.ref} ${ctx.pullReps}× on each runtime`);
  }
  const rows = images.flatMap((i) => {
    const what = `${i.key} (${(i.compressedBytes / MB).toFixed(0)} MB, ${
      i.blobs.length - 1
    } layers)`;
    return [
      row(
        { workload: "g", metric: `pull ${what}: wall`, unit: "s", target: "≤ 0.8×" },
        s.get(`${i.key} wall`),
      ),
      row(
        { workload: "g", metric: `pull ${i.key}: CPU (daemon + helpers)`, unit: "cpu-s" },
        s.get(`${i.key} cpu`),
      ),
      row({
        workload: "g",
        metric: `pull ${i.key}: daemon peak RSS`,
        unit: "MiB",
        target: "< 128 MiB",
      }, s.get(`${i.key} peak`)),
      row(
        { workload: "g", metric: `pull ${i.key}: the disk, symlink(2) just before`, unit: "µs" },
        s.get(`${i.key} disk`),
      ),
    ];
  });
  const sizes = images.map((i) =>
    `${i.key} ${(i.compressedBytes / MB).toFixed(1)} MB gzip / ${
      (i.uncompressedBytes / MB).toFixed(1)
    } MB tar, ` +
    `${i.blobs.length - 1} layers, ${i.files} files`
  );
  const notes = [
    `g: ${ctx.pullReps} pulls per image per runtime, removed between pulls; images: ${
      sizes.join("; ")
    }.`,
    `g, disk: ${PROBE.perBatch} symlinks made by the bench in a new dir beside the runtime's ` +
    "store right before each of its pulls (kept until the end). Unpacking is mostly making " +
    "files, and on this disk (ext4 without a journal) the kernel passes over every inode " +
    "deleted in the last minutes in the block group when it allocates one (fs/ext4/ialloc.c, " +
    "recently_deleted()): what a new file costs depends on what was removed nearby just before. " +
    "crio-deno makes its layers in a directory marked FS_TOPDIR_FL (src/storage/spread_dirs.ts), " +
    "so ext4 places each new layer in a block group of its own choosing, not beside its store: " +
    "its row says what the disk charged near the store, which its layers no longer pay.",
  ];
  return { rows, notes };
}
