/**
 * Connects to localhost:<port> inside a pod's network namespace (CRI PortForward), as CRI-O does
 * in-process. setns(2) changes the calling thread only, so it is done on a throwaway Worker thread:
 * the worker enters the namespace, opens and connects the TCP socket there (a socket keeps the
 * namespace it was created in), hands the fd number back (fds are process-wide) and is
 * terminated, its thread with it; the daemon's own threads never leave the host namespace.
 *
 * Chosen over `nsenter --net=<path>` plus a relay process: no process (and no relay binary the
 * daemon's --allow-run would have to list) per connection, no extra copy of every byte, and it
 * needs only what the daemon already has (--allow-ffi for libc, read access to its own source).
 * Measured in sandbox_stream_integration_test.ts: a dial costs one worker start (tens of ms).
 */
import { UnavailableError } from "../errors.ts";
import { FdSocket, type PacketConn } from "../util/fd_socket.ts";

export interface DialRequest {
  /** The pinned netns; undefined dials in the host's namespace (host-network pods). */
  netns?: string;
  port: number;
  /** Bound on the TCP connect. */
  timeoutMs: number;
}

export type DialReply = { fd: number } | { error: string };

export interface NetnsDialer {
  dial(req: { netns?: string; port: number }): Promise<PacketConn>;
}

const DIAL_TIMEOUT_MS = 10_000;

// Run from the sources, the worker is the .ts beside this module; run from bin/bundle's single
// file, it is a bundle of its own beside that one.
const WORKER = new URL(
  import.meta.url.endsWith(".js") ? "./netns_dial_worker.js" : "./netns_dial_worker.ts",
  import.meta.url,
);

export const workerDialer: NetnsDialer = {
  async dial(req) {
    const worker = new Worker(WORKER, {
      type: "module",
    });
    try {
      const reply = await new Promise<DialReply>((resolve) => {
        worker.onmessage = (e: MessageEvent<DialReply>) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          resolve({ error: e.message });
        };
        const msg: DialRequest = { ...req, timeoutMs: DIAL_TIMEOUT_MS };
        worker.postMessage(msg);
      });
      if ("error" in reply) {
        throw new UnavailableError(`port-forward to localhost:${req.port}: ${reply.error}`);
      }
      return new FdSocket(reply.fd);
    } finally {
      worker.terminate();
    }
  },
};
