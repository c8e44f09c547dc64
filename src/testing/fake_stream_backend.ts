/**
 * A StreamBackend for streaming-server tests: `exec` runs a tiny script language instead of a
 * container, so every protocol path (stdout, stderr, stdin echo, exit codes, resizes, failures)
 * can be driven without root. Port-forward echoes the bytes back, prefixed with the port.
 */
import type {
  CachedRequest,
  Duplex,
  StreamBackend,
  StreamIO,
  TerminalSize,
} from "../stream/backend.ts";
import { Logger } from "../log.ts";
import { StreamServer, type StreamServerOptions } from "../stream/server.ts";
import { newSpdySession } from "../stream/streaming.ts";

export class FakeStreamBackend implements StreamBackend {
  readonly resizes: TerminalSize[] = [];
  readonly calls: string[] = [];
  /** Sessions the backend is running now; tests wait for it to reach 0. */
  active = 0;

  /**
   * cmd[0]: "echo" writes cmd[1] to stdout and cmd[2] (if any) to stderr; "cat" copies stdin to
   * stdout; "exit" returns Number(cmd[1]); "fail" throws; "resize" records cmd[1] resize events.
   */
  async exec(
    containerId: string,
    o: { cmd: string[]; io: StreamIO },
  ): Promise<{ exitCode: number }> {
    this.calls.push(`exec ${containerId} ${o.cmd.join(" ")}`);
    this.active++;
    try {
      return await this.#run(o.cmd, o.io);
    } finally {
      this.active--;
    }
  }

  async attach(containerId: string, o: { io: StreamIO }): Promise<void> {
    this.calls.push(`attach ${containerId}`);
    this.active++;
    try {
      await this.#run(["cat"], o.io);
    } finally {
      this.active--;
    }
  }

  async portForward(podId: string, o: { port: number; conn: Duplex }): Promise<void> {
    this.calls.push(`portforward ${podId} ${o.port}`);
    if (o.port === 1) throw new Error("connection refused");
    const w = o.conn.writable.getWriter();
    await w.write(new TextEncoder().encode(`${o.port}:`));
    for await (const chunk of o.conn.readable) await w.write(chunk);
    await w.close();
  }

  async #run(cmd: string[], io: StreamIO): Promise<{ exitCode: number }> {
    const enc = new TextEncoder();
    const write = async (s: WritableStream<Uint8Array> | undefined, text: string) => {
      if (!s) return;
      const w = s.getWriter();
      await w.write(enc.encode(text));
      w.releaseLock();
    };
    switch (cmd[0]) {
      case "echo":
        await write(io.stdout, cmd[1] ?? "");
        if (cmd[2]) await write(io.stderr, cmd[2]);
        return { exitCode: 0 };
      case "cat":
        if (io.stdin && io.stdout) await io.stdin.pipeTo(io.stdout, { preventClose: true });
        return { exitCode: 0 };
      case "exit":
        return { exitCode: Number(cmd[1]) };
      case "resize":
        if (io.resize) {
          for await (const r of io.resize) {
            this.resizes.push(r);
            if (this.resizes.length >= Number(cmd[1])) break;
          }
        }
        return { exitCode: 0 };
      default:
        throw new Error(`executable file not found: ${cmd[0]}`);
    }
  }
}

/** A streaming server on a loopback port with a FakeStreamBackend, closed (and checked) after fn. */
export async function withStreamServer(
  fn: (s: StreamServer, b: FakeStreamBackend) => Promise<void>,
  o: Partial<StreamServerOptions> = {},
): Promise<void> {
  const backend = new FakeStreamBackend();
  const server = await StreamServer.start({
    address: "127.0.0.1",
    port: 0,
    backend,
    newSession: newSpdySession,
    log: new Logger({ sink: { write() {} } }),
    creationTimeoutMs: 500,
    ...o,
  });
  try {
    await fn(server, backend);
  } finally {
    await server.close();
  }
  if (server.connections !== 0) throw new Error(`${server.connections} connections left open`);
}

/** An exec request as the Exec RPC caches it: stdout and stderr, no stdin, no tty, unless given. */
export function execRequest(
  cmd: string[],
  o: Partial<CachedRequest & { kind: "exec" }> = {},
): CachedRequest {
  return {
    kind: "exec",
    containerId: "c1",
    cmd,
    stdin: false,
    stdout: true,
    stderr: true,
    tty: false,
    ...o,
  };
}
