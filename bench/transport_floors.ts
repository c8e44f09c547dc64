/**
 * The floors under the bare CriServer (list_floor.ts), for the List calls: the same answer bytes
 * served by Deno's node:http2 without grpc-js (http2_floor_server.ts) and by a Go gRPC server
 * (bench/cri_list -serve), each in its own process, timed by the same Go client on the same node.
 * A daemon's List p99 minus the CriServer's is the daemon's own; the CriServer's minus the raw
 * node:http2 server's is grpc-js's; the raw server's minus Go's is Deno's transport; Go's is what
 * the machine gives any server of the same bytes.
 */
import { type Child, spawnChild, waitFor } from "../conformance/process.ts";
import { LIST_METHODS } from "./derive.ts";

const SERVER = new URL("./http2_floor_server.ts", import.meta.url).pathname;

export type ListMethod = typeof LIST_METHODS[number];

export interface TransportFloor {
  /** Names the rows: `<method> <name> floor`. */
  readonly name: "http2" | "go";
  readonly socket: string;
  readonly pid: number;
  stop(): Promise<void>;
}

async function listening(name: string, socket: string, child: Child): Promise<void> {
  try {
    await waitFor(name, async () => (await Deno.lstat(socket)).isSocket === true, {
      timeoutMs: 30_000,
      exited: child.status,
    });
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/**
 * Writes the answers to dir and starts both servers there; resolves once both listen. The raw
 * node:http2 server runs with the daemon's V8 flags and malloc arenas, as the CriServer floor does.
 */
export async function startTransportFloors(
  dir: string,
  o: {
    answers: Record<ListMethod, Uint8Array>;
    goBin: string;
    denoFlags: string[];
    mallocArenas: string;
  },
): Promise<TransportFloor[]> {
  for (const m of LIST_METHODS) await Deno.writeFile(`${dir}/${m}.bin`, o.answers[m]);
  const floors: TransportFloor[] = [];
  const start = async (
    name: TransportFloor["name"],
    how: { cmd: string; args: (socket: string) => string[] },
  ) => {
    const socket = `${dir}/${name}-floor.sock`;
    const child = spawnChild(how.cmd, {
      args: how.args(socket),
      env: { MALLOC_ARENA_MAX: o.mallocArenas },
      logFile: `${dir}/${name}-floor.log`,
    });
    await listening(`the ${name} List floor`, socket, child);
    floors.push({ name, socket, pid: child.pid, stop: () => child.stop() });
  };
  try {
    await start("http2", {
      cmd: Deno.execPath(),
      args: (socket) => [
        "run",
        "--quiet",
        "--no-prompt",
        `--allow-read=${dir}`,
        `--allow-write=${dir}`,
        `--allow-net=unix:${socket}`,
        ...o.denoFlags,
        SERVER,
        socket,
        dir,
      ],
    });
    await start("go", { cmd: o.goBin, args: (socket) => ["-serve", socket, "-answers", dir] });
  } catch (err) {
    await Promise.all(floors.map((f) => f.stop()));
    throw err;
  }
  return floors;
}
