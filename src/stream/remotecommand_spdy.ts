/**
 * Remote command over SPDY/3.1 (kubelet's remotecommand/httpstream.go): the client asks for
 * `Upgrade: SPDY/3.1` and lists X-Stream-Protocol-Version; the server picks the first it knows
 * (v4, v3, v2, channel.k8s.io), answers 101, and waits for the client to open one stream per
 * `streamType` (error, and stdin/stdout/stderr/resize as requested) within the creation timeout.
 * Other or repeated stream types are refused, so a client cannot make the session hold more.
 */
import type { CommandRequest, Duplex, StreamBackend } from "./backend.ts";
import { header, headerTokens, type RequestHead } from "./http_head.ts";
import { type CommandSession, outStream, runCommand } from "./remotecommand.ts";
import type { SpdySessionFactory, SpdySessionLike, SpdyStreamLike } from "./spdy_api.ts";
import { statusBytes } from "./status.ts";
import { respond } from "./upgrade.ts";

export const SPDY_COMMAND_PROTOCOLS = [
  "v4.channel.k8s.io",
  "v3.channel.k8s.io",
  "v2.channel.k8s.io",
  "channel.k8s.io",
];

export interface SpdyServeOptions {
  head: RequestHead;
  conn: Duplex;
  backend: StreamBackend;
  newSession: SpdySessionFactory;
  creationTimeoutMs: number;
}

/**
 * The protocol negotiation and 101 answer shared by remote command and port-forward; returns the
 * chosen protocol, or undefined after answering an error.
 */
export async function spdyHandshake(
  head: RequestHead,
  conn: Duplex,
  supported: readonly string[],
): Promise<string | undefined> {
  const offered = headerTokens(head, "x-stream-protocol-version");
  if (offered.length === 0) {
    await respond(conn, 400, {
      body: "unable to upgrade: header X-Stream-Protocol-Version does not exist in request\n",
    });
    return undefined;
  }
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen) {
    await respond(conn, 403, {
      headers: supported.map((p) => ["X-Accepted-Stream-Protocol-Versions", p]),
      body: `unable to upgrade: unable to negotiate protocol: client supports [${
        offered.join(" ")
      }], server accepts [${supported.join(" ")}]\n`,
    });
    return undefined;
  }
  const upgrade = (header(head, "upgrade") ?? "").toLowerCase();
  const connection = headerTokens(head, "connection").map((t) => t.toLowerCase());
  if (!upgrade.includes("spdy/3.1") || !connection.includes("upgrade")) {
    await respond(conn, 400, { body: "unable to upgrade: missing upgrade headers in request\n" });
    return undefined;
  }
  await respond(conn, 101, {
    headers: [
      ["Connection", "Upgrade"],
      ["Upgrade", "SPDY/3.1"],
      ["X-Stream-Protocol-Version", chosen],
    ],
  });
  return chosen;
}

export async function serveCommandSpdy(req: CommandRequest, o: SpdyServeOptions): Promise<void> {
  const protocol = await spdyHandshake(o.head, o.conn, SPDY_COMMAND_PROTOCOLS);
  if (!protocol) return;
  const resizable = protocol === "v4.channel.k8s.io" || protocol === "v3.channel.k8s.io";
  const wanted = new Set(["error"]);
  if (req.stdin) wanted.add("stdin");
  if (req.stdout) wanted.add("stdout");
  if (req.stderr) wanted.add("stderr");
  if (req.tty && resizable) wanted.add("resize");
  const got = new Map<string, SpdyStreamLike>();
  const all = Promise.withResolvers<void>();
  const session = o.newSession(o.conn, {
    onStream(s) {
      const type = s.headers.get("streamtype") ?? "";
      if (!wanted.has(type) || got.has(type)) return false;
      got.set(type, s);
      if (got.size === wanted.size) all.resolve();
      return true;
    },
  });
  const timedOut = await waitFor(all.promise, session.closed, o.creationTimeoutMs);
  if (timedOut) {
    await session.close({ now: true });
    return;
  }
  const aborted = new AbortController();
  void session.closed.finally(() => aborted.abort());
  // What a client sends on streams the server only writes is discarded, so it cannot fill the
  // session's per-stream buffer and stall the streams that matter.
  for (const type of ["error", "stdout", "stderr"]) {
    void got.get(type)?.readable.cancel().catch(() => {});
  }
  // The kubelet half-closes the server side of stdin for channel.k8s.io (v1) clients.
  if (protocol === "channel.k8s.io") await got.get("stdin")?.close().catch(() => {});
  const out = (s?: SpdyStreamLike) =>
    s && outStream({ write: (d) => s.write(d), end: () => s.close() });
  const error = got.get("error")!;
  let closing: Promise<void> | undefined;
  const commandSession: CommandSession = {
    stdin: got.get("stdin")?.readable,
    stdout: out(got.get("stdout")),
    stderr: out(got.get("stderr")),
    resize: got.get("resize")?.readable,
    writeStatus: async (s) => {
      const bytes = statusBytes(s, protocol === "v4.channel.k8s.io");
      if (bytes.length) await error.write(bytes);
      await error.close();
    },
    close: () => (closing ??= endInputs(got).then(() => closeSpdy(session))),
    signal: aborted.signal,
  };
  await runCommand(req, { session: commandSession, backend: o.backend });
}

/** Our side of the streams only the client writes, so they can finish once the client ends them. */
async function endInputs(got: Map<string, SpdyStreamLike>): Promise<void> {
  for (const type of ["stdin", "resize"]) await got.get(type)?.close().catch(() => {});
}

/**
 * GOAWAY, then a moment for the client to read the status and hang up (client-go does once the
 * error stream ends); a client that keeps streams open is cut off, as the kubelet closes the
 * connection when the command is done.
 */
export async function closeSpdy(session: SpdySessionLike): Promise<void> {
  const late = await waitFor(session.close(), new Promise<void>(() => {}), 2000);
  if (late) await session.close({ now: true });
}

/**
 * Waits for `ready` at most `ms`; true when the time ran out or the session closed first (the
 * client gave up), false when ready.
 */
export async function waitFor(
  ready: Promise<void>,
  closed: Promise<void>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const out = await Promise.race([
    ready.then(() => false),
    closed.then(() => true, () => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), ms))),
  ]);
  clearTimeout(timer);
  return out;
}

export type { SpdySessionLike };
