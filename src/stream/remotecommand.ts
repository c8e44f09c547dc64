/**
 * The transport-neutral half of the kubelet's remotecommand server: given the streams a client
 * opened (over SPDY or WebSocket), run exec or attach through the backend, then report the outcome
 * on the error stream and close the connection, as k8s.io/kubelet/pkg/cri/streaming/remotecommand
 * does: Success, NonZeroExitCode with the code, or an internal error naming what failed.
 */
import { errorMessage } from "../errors.ts";
import type { CommandRequest, StreamBackend, StreamIO } from "./backend.ts";
import { resizeEvents } from "./resize.ts";
import { exitCodeStatus, internalErrorStatus, type Status, successStatus } from "./status.ts";

/** An output stream the transport can end itself even while the backend holds its writer. */
export interface OutStream {
  writable: WritableStream<Uint8Array>;
  finish(): Promise<void>;
}

export interface CommandSession {
  stdin?: ReadableStream<Uint8Array>;
  stdout?: OutStream;
  stderr?: OutStream;
  /** Raw resize bytes (JSON objects), present with tty. */
  resize?: ReadableStream<Uint8Array>;
  /** Writes the outcome to the error stream and ends it. */
  writeStatus(s: Status): Promise<void>;
  /** Ends the connection; safe to call twice. */
  close(): Promise<void>;
  /** Aborted when the connection breaks before the command ends. */
  signal: AbortSignal;
}

export async function runCommand(
  req: CommandRequest,
  o: { session: CommandSession; backend: StreamBackend },
): Promise<Status> {
  const { session, backend } = o;
  const io: StreamIO = {
    stdin: session.stdin,
    stdout: session.stdout?.writable,
    stderr: session.stderr?.writable,
    tty: req.tty,
    resize: req.tty && session.resize ? resizeEvents(session.resize) : undefined,
    signal: session.signal,
  };
  let status: Status;
  try {
    if (req.kind === "exec") {
      const { exitCode } = await backend.exec(req.containerId, { cmd: req.cmd, io });
      status = exitCode === 0 ? successStatus() : exitCodeStatus(exitCode);
    } else {
      await backend.attach(req.containerId, { io });
      status = successStatus();
    }
  } catch (err) {
    const what = req.kind === "exec" ? "executing command in" : "attaching to";
    status = internalErrorStatus(`error ${what} container: ${errorMessage(err)}`);
  }
  try {
    await session.stdout?.finish();
    await session.stderr?.finish();
    await session.writeStatus(status);
  } catch { /* the client is gone: nothing left to tell it */ }
  await session.close();
  return status;
}

/** Wraps a sink so that both the backend (through the stream) and the transport can end it. */
export function outStream(
  sink: { write(data: Uint8Array): Promise<void>; end(): Promise<void> },
): OutStream {
  let ended: Promise<void> | undefined;
  const finish = () => (ended ??= sink.end().catch(() => {}));
  return {
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => (ended ? Promise.reject(new Error("stream ended")) : sink.write(chunk)),
      close: () => finish(),
      abort: () => finish(),
    }),
    finish,
  };
}
