/**
 * Port-forward over WebSocket. Two forms reach this route:
 * - `SPDY/3.1+portforward.k8s.io`: client-go's tunnelling dialer (what critest's
 *   -websocket-portforward and kubectl use) runs a SPDY session inside the WebSocket's binary
 *   messages; it is served exactly as plain SPDY port-forward.
 * - `v4.channel.k8s.io` (and its base64 form), kubelet's portforward/websocket.go: two channels
 *   per port, data (2i) and error (2i+1); the server first writes the port, 2 bytes little-endian,
 *   on both. Ports come from the PortForward request, else from the `port` query parameter.
 */
import type { Duplex, StreamBackend } from "./backend.ts";
import { ChannelConn } from "./channels.ts";
import { errorMessage } from "../errors.ts";
import type { RequestHead } from "./http_head.ts";
import { runPortForwardSession } from "./portforward_spdy.ts";
import { closeGracefully } from "./remotecommand_ws.ts";
import type { SpdySessionFactory } from "./spdy_api.ts";
import { respond, upgradeWebSocket, wsByteStream } from "./upgrade.ts";

const TUNNEL = "SPDY/3.1+portforward.k8s.io";
const PROTOCOLS = [TUNNEL, "v4.channel.k8s.io", "v4.base64.channel.k8s.io", ""];
const MAX_PORTS = 64;

export async function servePortForwardWebSocket(
  podId: string,
  o: {
    head: RequestHead;
    conn: Duplex;
    ports: number[];
    backend: StreamBackend;
    newSession: SpdySessionFactory;
    creationTimeoutMs: number;
  },
): Promise<void> {
  const offered = o.head.headers.get("sec-websocket-protocol")?.join(",") ?? "";
  const tunnel = offered.split(",").some((p) => p.trim() === TUNNEL);
  const ports = tunnel ? [] : o.ports.length ? o.ports : queryPorts(o.head.target);
  if (!tunnel && (ports === undefined || ports.length === 0 || ports.length > MAX_PORTS)) {
    await respond(o.conn, 400, {
      body: `query parameter "port" is required (1 to ${MAX_PORTS})\n`,
    });
    return;
  }
  const up = await upgradeWebSocket(o.head, o.conn, { protocols: PROTOCOLS });
  if (!up) return;
  if (up.protocol === TUNNEL) {
    await runPortForwardSession(podId, { ...o, conn: wsByteStream(up.ws) });
    await up.ws.abort();
    return;
  }
  const ch = new ChannelConn(up.ws, {
    base64: up.protocol.includes("base64"),
    closeSignal: false,
    readable: ports!.map((_, i) => 2 * i),
  });
  const aborted = new AbortController();
  const reading = ch.run().catch(() => {}).finally(() => aborted.abort());
  await Promise.all(ports!.map(async (port, i) => {
    const portBytes = new Uint8Array([port & 0xff, port >> 8]);
    await ch.write(2 * i, portBytes);
    await ch.write(2 * i + 1, portBytes);
    const conn = { readable: ch.readable(2 * i), writable: ch.writable(2 * i) };
    try {
      await o.backend.portForward(podId, { port, conn, signal: aborted.signal });
    } catch (err) {
      const msg = `error forwarding port ${port} to pod ${podId}, uid : ${errorMessage(err)}`;
      await ch.write(2 * i + 1, new TextEncoder().encode(msg)).catch(() => {});
    }
  }));
  await closeGracefully(up.ws, reading);
}

/** Ports from `port=` query parameters, each possibly comma-separated; undefined when malformed. */
export function queryPorts(target: string): number[] | undefined {
  const q = new URLSearchParams(target.includes("?") ? target.slice(target.indexOf("?") + 1) : "");
  const out: number[] = [];
  for (const v of q.getAll("port")) {
    for (const p of v.split(",")) {
      if (!/^[0-9]{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) return undefined;
      out.push(Number(p));
    }
  }
  return out;
}
