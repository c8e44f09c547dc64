/**
 * One exec session of the streaming soak (stream_soak.ts) over SPDY or WebSocket, with the
 * clients of src/testing, checked against what the command should report.
 */
import { readText, spdyConnect } from "../src/testing/spdy_client.ts";
import { WsTestClient } from "../src/testing/ws_client.ts";

export interface SessionKind {
  cmd: string[];
  tty: boolean;
  ws: boolean;
  /** An exit code, or "fail" for a command that cannot start (any Failure status). */
  expect: number | "fail";
  /** Send three resizes, the last 120x50, before stdin; `stty size` must show it. */
  resize?: boolean;
}

const enc = (s: string) => new TextEncoder().encode(s);
export const LATE_RESIZE = "last resize not seen";
const SIZES = [[80, 24], [100, 40], [120, 50]].map(([w, h]) => `{"Width":${w},"Height":${h}}`);

/**
 * Resizes travel to conmon's ctl FIFO and stdin to its attach socket, two paths with no order
 * between them, and conmon applies a size only once the exec's terminal exists: the session
 * waits for the command to start, spaces the sizes, and lets the last land before `stty size`.
 */
function pause(ms = 300): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Outcome {
  stdout: string;
  status: { status?: string; reason?: string; details?: { causes?: { message?: string }[] } };
}

/** undefined when the session did what it should, else what went wrong. */
export async function runSession(
  exec: (req: Record<string, unknown>) => Promise<string>,
  containerId: string,
  k: SessionKind,
): Promise<string | undefined> {
  const url = await exec({
    containerId,
    cmd: k.cmd,
    tty: k.tty,
    stdin: k.tty,
    stdout: true,
    stderr: !k.tty,
  });
  const out = k.ws ? await overWebSocket(url, k) : await overSpdy(url, k);
  return judge(out, k);
}

function judge(o: Outcome, k: SessionKind): string | undefined {
  const s = o.status;
  if (k.expect === "fail") return s.status === "Failure" ? undefined : `want a failure: ${str(s)}`;
  if (k.expect === 0) {
    if (s.status !== "Success") return `want success: ${str(s)}`;
  } else if (s.reason !== "NonZeroExitCode" || s.details?.causes?.[0]?.message !== `${k.expect}`) {
    return `want exit ${k.expect}: ${str(s)}`;
  }
  if (k.resize && !o.stdout.includes("50 120")) {
    return `${LATE_RESIZE}: ${JSON.stringify(o.stdout)}`;
  }
  return undefined;
}

function str(v: unknown): string {
  return JSON.stringify(v).slice(0, 200);
}

async function overSpdy(url: string, k: SessionKind): Promise<Outcome> {
  const c = await spdyConnect(url, { protocols: ["v4.channel.k8s.io"] });
  if (!c.session) throw new Error(`SPDY upgrade answered ${c.status}`);
  const s = c.session;
  try {
    const error = await s.openStream({ streamType: "error" }, { fin: true });
    const stdout = await s.openStream({ streamType: "stdout" }, { fin: true });
    const stderr = k.tty ? undefined : await s.openStream({ streamType: "stderr" }, { fin: true });
    if (k.tty) {
      const stdin = await s.openStream({ streamType: "stdin" });
      const resize = await s.openStream({ streamType: "resize" });
      await pause();
      for (const size of SIZES) await resize.write(enc(size)).then(() => pause(50));
      await pause();
      await stdin.write(enc("go\n"));
      await stdin.close();
    }
    const [e, o] = await Promise.all([
      readText(error),
      readText(stdout),
      stderr && readText(stderr),
    ]);
    return { stdout: o, status: JSON.parse(e || "{}") };
  } finally {
    await s.close({ now: true }).catch(() => {});
    try {
      c.conn.close();
    } catch { /* the session closed it */ }
  }
}

async function overWebSocket(url: string, k: SessionKind): Promise<Outcome> {
  const c = await WsTestClient.connect(url, { protocols: ["v5.channel.k8s.io"] });
  try {
    if (c.status !== 101) throw new Error(`WebSocket upgrade answered ${c.status}`);
    if (k.tty) {
      await pause();
      for (const size of SIZES) {
        await c.send(2, new Uint8Array([4, ...enc(size)])).then(() => pause(50));
      }
      await pause();
      await c.send(2, new Uint8Array([0, ...enc("go\n")]));
      await c.send(2, new Uint8Array([255, 0]));
    }
    const text = new Map<number, string>();
    for (;;) {
      const f = await c.frame();
      if (!f || f.opcode === 8) break;
      if (f.opcode !== 2 || f.payload.length === 0) continue;
      const ch = f.payload[0];
      text.set(ch, (text.get(ch) ?? "") + new TextDecoder().decode(f.payload.subarray(1)));
    }
    return { stdout: text.get(1) ?? "", status: JSON.parse(text.get(3) || "{}") };
  } finally {
    c.close();
  }
}
