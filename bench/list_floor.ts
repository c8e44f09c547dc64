/**
 * The floor under this daemon's List calls and its idle RSS: the daemon's own gRPC server
 * (CriServer: grpc-js on Deno's node:http2, protobufjs, the CRI schema, the same encoder) with
 * nothing behind it, answering ListPodSandbox and ListContainers with the very items the daemon
 * just answered. It runs in its own process, bundled and started like bin/crio runs the daemon
 * (the same runtime flags and malloc arenas), on the same node at the same time. What the daemon
 * takes beyond this is its own; what this takes is the platform the design binds it to.
 *
 * The server itself is list_floor_server.ts.
 */
import { type Child, spawnChild, waitFor } from "../conformance/process.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { buildListClient, goList } from "./go_list.ts";
import { FRESH_SETTLE_MS, type ProcMem, readMem } from "./procfs.ts";
import { rt, type Target } from "./target.ts";
import { KiB_PER_MiB, type Samples, type WorkloadContext } from "./workloads/common.ts";

const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export interface ListItems {
  pods: Record<string, unknown>[];
  containers: Record<string, unknown>[];
}

/**
 * bin/crio's Deno runtime flags (V8's, the code cache's) and malloc arena default, read from the
 * script so they cannot drift.
 */
export function daemonRuntimeFlags(script: string): { flags: string[]; mallocArenas: string } {
  const flags = script.match(/^runtime=\(([^)]+)\)$/m)?.[1];
  const arenas = script.match(/MALLOC_ARENA_MAX:-(\d+)/)?.[1];
  if (!flags || !arenas) {
    throw new Error("bin/crio: its runtime=(...) flags or MALLOC_ARENA_MAX not found");
  }
  return { flags: flags.split(/\s+/), mallocArenas: arenas };
}

/** bin/bundle's `deno bundle` flags, read from the script so the floor is built as the daemon. */
export function bundleFlags(script: string): string[] {
  const flags = script.match(/^\s*flags=\(([^)]+)\)$/m)?.[1];
  if (!flags) throw new Error("bin/bundle: its flags=(...) not found");
  return flags.split(/\s+/);
}

export interface ListFloor {
  readonly socket: string;
  readonly pid: number;
  /** The server's memory after the daemons' warm-up calls and settle, before any List call. */
  readonly fresh: ProcMem;
  stop(): Promise<void>;
}

/** Starts the floor server in dir with items; resolves once it listens. */
export async function startListFloor(dir: string, items: ListItems): Promise<ListFloor> {
  const socket = `${dir}/floor.sock`;
  await Deno.writeTextFile(`${dir}/floor-items.json`, JSON.stringify(items));
  const flags = daemonRuntimeFlags(await Deno.readTextFile(`${REPO}/bin/crio`));
  // Bundled as bin/bundle bundles the daemon, so both run one minified file.
  const built = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      ...bundleFlags(await Deno.readTextFile(`${REPO}/bin/bundle`)),
      `${REPO}/bench/list_floor_server.ts`,
      "-o",
      `${dir}/floor.js`,
    ],
    cwd: REPO,
    stdout: "null",
  }).output();
  if (!built.success) {
    throw new Error(`deno bundle of the List floor: ${new TextDecoder().decode(built.stderr)}`);
  }
  const child: Child = spawnChild(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-read",
      `--allow-write=${dir}`,
      `--allow-net=unix:${socket}`,
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      ...flags.flags,
      `${dir}/floor.js`,
      socket,
      `${dir}/floor-items.json`,
    ],
    env: { MALLOC_ARENA_MAX: flags.mallocArenas, CRIO_CACHE_DIR: `${REPO}/.cache` },
    cwd: REPO,
    logFile: `${dir}/floor.log`,
  });
  try {
    await waitFor(
      "the List floor server",
      async () => (await Deno.lstat(socket)).isSocket === true,
      {
        timeoutMs: 30_000,
        exited: child.status,
      },
    );
    // As the daemons' fresh figures (setup.ts): after the same warm-up calls through the bench's
    // client, still connected, and the same settle. The floor answers both UNIMPLEMENTED, as the
    // daemon answers the probe with an error: the first connection and call paths are the
    // platform's, so they belong in the floor.
    const client = new CriTestClient(socket, loadSchema());
    let fresh: ProcMem | undefined;
    try {
      for (const method of ["Version", "CreateContainer"]) {
        await client.call("RuntimeService", method, {}).catch(() => {});
      }
      await new Promise((r) => setTimeout(r, FRESH_SETTLE_MS));
      fresh = (await readMem([child.pid])).get(child.pid);
    } finally {
      client.close();
    }
    if (!fresh) throw new Error(`the List floor server (pid ${child.pid}) has no /proc status`);
    return { socket, pid: child.pid, fresh, stop: () => child.stop() };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** The floor server answering what t (this daemon) answers now, for `withListFloor`'s caller. */
export interface ListedFloor {
  /** `calls` calls of method to the floor, by the same Go client, under `<method> floor`. */
  list(method: "ListPodSandbox" | "ListContainers", calls: number): Promise<void>;
}

/**
 * Starts the floor server with what t answers now (its fresh RSS under `rss floor fresh` and
 * `anon floor fresh`), runs fn with it, and stops it.
 */
export async function withListFloor(
  t: Target,
  o: { ctx: WorkloadContext; s: Samples },
  fn: (floor: ListedFloor) => Promise<void>,
): Promise<void> {
  const pods = (await rt(t, "ListPodSandbox")).items as ListItems["pods"];
  const containers = (await rt(t, "ListContainers")).containers as ListItems["containers"];
  const want = { ListPodSandbox: pods.length, ListContainers: containers.length };
  const dir = await Deno.makeTempDir({ dir: o.ctx.scratch, prefix: "list-floor-" });
  try {
    const floor = await startListFloor(dir, { pods, containers });
    try {
      o.s.add("rss floor fresh", t.name, floor.fresh.rssKiB / KiB_PER_MiB);
      o.s.add("anon floor fresh", t.name, floor.fresh.anonKiB / KiB_PER_MiB);
      const bin = await buildListClient(o.ctx.log);
      await fn({
        async list(method, calls) {
          const res = await goList(bin, { socket: floor.socket, method, calls });
          if (res.items !== want[method]) {
            throw new Error(`List floor: ${method} listed ${res.items} of ${want[method]}`);
          }
          for (const ms of res.arrivedMs) o.s.add(`${method} floor`, t.name, ms);
        },
      });
    } finally {
      await floor.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
