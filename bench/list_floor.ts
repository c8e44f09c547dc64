/**
 * The floor under this daemon's List calls and its idle RSS: the daemon's own gRPC server
 * (CriServer: grpc-js on Deno's node:http2, protobufjs, the CRI schema, the same encoder) with
 * nothing behind it, answering ListPodSandbox and ListContainers with the very items the daemon
 * just answered. It runs in its own process, bundled and started like bin/crio runs the daemon
 * (the same runtime flags and malloc arenas), on the same node at the same time. What the daemon
 * takes beyond this is its own; what this takes is the platform the design binds it to.
 *
 * The server itself is list_floor_server.ts. Under it, transport_floors.ts serves the same answer
 * bytes without grpc-js and from Go, so the platform's time is split too.
 */
import { type Child, spawnChild, waitFor } from "../conformance/process.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriTestClient } from "../src/testing/cri_client.ts";
import { buildListClient, goList } from "./go_list.ts";
import { FRESH_SETTLE_MS, type ProcMem, readMem } from "./procfs.ts";
import { rt, type Target } from "./target.ts";
import { LIST_FLOORS, LIST_METHODS } from "./derive.ts";
import { type ListMethod, startTransportFloors, type TransportFloor } from "./transport_floors.ts";
import type { Row } from "./report.ts";
import { KiB_PER_MiB, row, type Samples, type WorkloadContext } from "./workloads/common.ts";

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

/** The floor servers answering what t (this daemon) answers now, for `withListFloor`'s caller. */
export interface ListedFloor {
  /**
   * `calls` calls of method to each floor in turn, by the same Go client: the bare CriServer's
   * under `<method> floor`, then the transport floors' under `<method> <name> floor`.
   */
  list(method: ListMethod, calls: number): Promise<void>;
}

/** The answers' bytes as protobufjs encodes them, for the floors without a CRI schema. */
function encodeAnswers(items: ListItems): Record<ListMethod, Uint8Array> {
  const { root } = loadSchema();
  const encode = (type: string, value: Record<string, unknown>) => {
    const t = root.lookupType(`runtime.v1.${type}`);
    return t.encode(t.fromObject(value)).finish();
  };
  return {
    ListPodSandbox: encode("ListPodSandboxResponse", { items: items.pods }),
    ListContainers: encode("ListContainersResponse", { containers: items.containers }),
  };
}

/** Each floor server in turn, timed by the Go client at bin, its samples keyed by server. */
function listedFloor(o: {
  s: Samples;
  bin: string;
  servers: { key: string; socket: string }[];
  want: Record<ListMethod, number>;
  who: Target["name"];
}): ListedFloor {
  return {
    async list(method, calls) {
      for (const server of o.servers) {
        const res = await goList(o.bin, { socket: server.socket, method, calls });
        if (res.items !== o.want[method]) {
          throw new Error(`${server.key}: ${method} listed ${res.items} of ${o.want[method]}`);
        }
        for (const ms of res.arrivedMs) o.s.add(`${method} ${server.key}`, o.who, ms);
      }
    },
  };
}

/**
 * Starts the floor servers with what t answers now (the CriServer's fresh RSS under
 * `rss floor fresh` and `anon floor fresh`), runs fn with them, and stops them.
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
      const runtime = daemonRuntimeFlags(await Deno.readTextFile(`${REPO}/bin/crio`));
      const transports = await startTransportFloors(dir, {
        answers: encodeAnswers({ pods, containers }),
        goBin: bin,
        denoFlags: runtime.flags,
        mallocArenas: runtime.mallocArenas,
      });
      const servers = [
        { key: "floor", socket: floor.socket },
        ...transports.map((f: TransportFloor) => ({ key: `${f.name} floor`, socket: f.socket })),
      ];
      try {
        await fn(listedFloor({ ...o, bin, servers, want, who: t.name }));
      } finally {
        await Promise.all(transports.map((f) => f.stop()));
      }
    } finally {
      await floor.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The floors' rows (e), each method's answer from each floor, in the order they are called. */
export function listFloorRows(s: Samples): Row[] {
  return LIST_FLOORS.flatMap((f) =>
    LIST_METHODS.map((m) =>
      row(
        { workload: "e", metric: `${m}: the same answer from ${f.what}`, unit: "ms" },
        s.get(`${m} ${f.key}`),
      )
    )
  );
}

/** What the floors' rows are, for the bench's notes. */
export function listFloorNote(o: { blocks: number; calls: number }): string {
  return "e/f, bare CriServer: this daemon's own gRPC server (grpc-js on Deno's node:http2, " +
    "protobufjs, the CRI schema, the same encoder; once listening it releases the start-up " +
    "pages of Deno's binary through libc, as the daemon does) with nothing behind it, started " +
    "like bin/crio starts the daemon, answering the items the daemon had just answered, timed " +
    "by the same Go client on the same node with every container still running " +
    `(bench/list_floor.ts); its List calls alternate with the daemon's in ${o.blocks} ` +
    `blocks of ${o.calls} calls, so both meet the same node. It is the floor the ` +
    "design's platform sets: the daemon's time or memory beyond it is its own. After each of " +
    "its blocks the same answer bytes are served by two floors under it, each for a block of " +
    "the same size: Deno's node:http2 framing gRPC by hand (bench/http2_floor_server.ts, the " +
    "daemon's V8 flags), whose time the CriServer's exceeds by what grpc-js adds, and a Go " +
    "gRPC server (bench/cri_list -serve), whose time is what this machine gives any server of " +
    "those bytes with the same client.";
}
