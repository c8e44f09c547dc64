/**
 * Remote command over WebSocket (kubelet's remotecommand/websocket.go): channels 0 stdin, 1 stdout,
 * 2 stderr, 3 error, 4 resize. The server first sends an empty message on the lowest channel it
 * writes, so the client knows the session is up; v4/v5 report a JSON Status on channel 3, older
 * protocols a plain message; v5 lets the client half-close stdin with the close signal. The
 * connection ends with a normal close, which the client reads as the end of every stream.
 */
import type { CommandRequest, Duplex, StreamBackend } from "./backend.ts";
import { ChannelConn } from "./channels.ts";
import type { RequestHead } from "./http_head.ts";
import { type CommandSession, outStream, runCommand } from "./remotecommand.ts";
import { statusBytes } from "./status.ts";
import { upgradeWebSocket } from "./upgrade.ts";

const PROTOCOLS: Record<string, { base64: boolean; json: boolean; closeSignal: boolean }> = {
  "v5.channel.k8s.io": { base64: false, json: true, closeSignal: true },
  "v4.channel.k8s.io": { base64: false, json: true, closeSignal: false },
  "v4.base64.channel.k8s.io": { base64: true, json: true, closeSignal: false },
  "channel.k8s.io": { base64: false, json: false, closeSignal: false },
  "base64.channel.k8s.io": { base64: true, json: false, closeSignal: false },
  "": { base64: false, json: false, closeSignal: false },
};
export const WS_COMMAND_PROTOCOLS = Object.keys(PROTOCOLS);

const STDIN = 0, STDOUT = 1, STDERR = 2, ERROR = 3, RESIZE = 4;

export async function serveCommandWebSocket(
  req: CommandRequest,
  o: { head: RequestHead; conn: Duplex; backend: StreamBackend; onActivity?: () => void },
): Promise<void> {
  const up = await upgradeWebSocket(o.head, o.conn, { protocols: WS_COMMAND_PROTOCOLS });
  if (!up) return;
  if (o.onActivity) up.ws.onActivity = o.onActivity;
  const p = PROTOCOLS[up.protocol];
  const readable = [...(req.stdin ? [STDIN] : []), ...(req.tty ? [RESIZE] : [])];
  const ch = new ChannelConn(up.ws, { base64: p.base64, closeSignal: p.closeSignal, readable });
  const aborted = new AbortController();
  // The client closing or breaking the socket ends the command's I/O.
  const reading = ch.run().catch(() => {}).finally(() => aborted.abort());
  await ch.write(req.stdout ? STDOUT : req.stderr ? STDERR : ERROR, new Uint8Array(0));
  const out = (n: number) =>
    outStream({ write: (d) => ch.write(n, d), end: () => Promise.resolve() });
  let closing: Promise<void> | undefined;
  const session: CommandSession = {
    stdin: req.stdin ? ch.readable(STDIN) : undefined,
    stdout: req.stdout ? out(STDOUT) : undefined,
    stderr: req.stderr ? out(STDERR) : undefined,
    resize: req.tty ? ch.readable(RESIZE) : undefined,
    writeStatus: async (s) => {
      const bytes = statusBytes(s, p.json);
      if (bytes.length) await ch.write(ERROR, bytes);
    },
    close: () => (closing ??= closeGracefully(up.ws, reading)),
    signal: aborted.signal,
  };
  await runCommand(req, { session, backend: o.backend });
}

/** Sends the close frame, gives the client a moment to answer it, then drops the connection. */
export async function closeGracefully(
  ws: { close(code?: number): Promise<void>; abort(): Promise<void> },
  reading: Promise<unknown>,
): Promise<void> {
  await ws.close(1000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<void>((r) => (timer = setTimeout(r, 2000)));
  await Promise.race([reading, late]);
  clearTimeout(timer);
  await ws.abort();
}
