/**
 * What the streaming server needs from the services below it: exec and attach on containers,
 * port-forward into a pod. The container and sandbox services implement these.
 */
import type { StreamIO } from "../oci/stream_io.ts";

export type { StreamIO, TerminalSize } from "../oci/stream_io.ts";

export interface Duplex {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export interface StreamBackend {
  exec(containerId: string, o: { cmd: string[]; io: StreamIO }): Promise<{ exitCode: number }>;
  attach(containerId: string, o: { io: StreamIO }): Promise<void>;
  portForward(
    podId: string,
    o: { port: number; conn: Duplex; signal?: AbortSignal },
  ): Promise<void>;
}

/** The CRI request a token stands for, as the RPC validated it. */
export type CachedRequest =
  | {
    kind: "exec";
    containerId: string;
    cmd: string[];
    stdin: boolean;
    stdout: boolean;
    stderr: boolean;
    tty: boolean;
  }
  | {
    kind: "attach";
    containerId: string;
    stdin: boolean;
    stdout: boolean;
    stderr: boolean;
    tty: boolean;
  }
  | { kind: "portforward"; podId: string; ports: number[] };

export type CommandRequest = Extract<CachedRequest, { kind: "exec" | "attach" }>;
