/**
 * The one place where gRPC meets the daemon: every RPC passes through `wrap`, which gives it a
 * request id, logs method, duration and outcome, counts it in the metrics and turns typed errors
 * into gRPC status codes. Handlers never see grpc-js.
 */
import * as grpc from "@grpc/grpc-js";
import { type ErrorKind, errorKind, errorMessage } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CallContext } from "./call_context.ts";
import type { InflightCalls } from "./inflight.ts";
import type { MethodInfo } from "./schema.ts";

export const GRPC_CODE: Record<ErrorKind, grpc.status> = {
  NotFound: grpc.status.NOT_FOUND,
  AlreadyExists: grpc.status.ALREADY_EXISTS,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  FailedPrecondition: grpc.status.FAILED_PRECONDITION,
  DeadlineExceeded: grpc.status.DEADLINE_EXCEEDED,
  ResourceExhausted: grpc.status.RESOURCE_EXHAUSTED,
  Unavailable: grpc.status.UNAVAILABLE,
  Unauthenticated: grpc.status.UNAUTHENTICATED,
  Unimplemented: grpc.status.UNIMPLEMENTED,
  Unknown: grpc.status.UNKNOWN,
  Internal: grpc.status.INTERNAL,
};

export type UnaryHandler = (req: unknown, ctx: CallContext) => Promise<unknown>;
export type StreamHandler = (req: unknown, ctx: CallContext) => AsyncIterable<unknown>;

/** What the edge reports for each call; the metrics module implements it. */
export interface CallObserver {
  observe(method: string, seconds: number, kind: ErrorKind | undefined): void;
}

export interface EdgeOptions {
  log: Logger;
  observer?: CallObserver;
  /** Aborted when the daemon shuts down; every call's signal follows it. */
  shutdown: AbortSignal;
  /**
   * Aborted as soon as the daemon begins to shut down: a stream (GetContainerEvents) never ends
   * by itself, so it ends cleanly at once instead of holding the grace period open.
   */
  endStreams?: AbortSignal;
  /** Counts each call from its start until its last byte is handed to grpc-js. */
  inflight?: InflightCalls;
}

let counter = 0;
function nextRequestId(): string {
  counter = (counter + 1) % 0x100000000;
  return `${(Date.now() % 0x1000000).toString(16)}-${counter.toString(16)}`;
}

/** Turns any thrown value into a gRPC error whose details name what went wrong. */
export function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  return { code: GRPC_CODE[errorKind(err)], details: errorMessage(err) };
}

/** The part of a grpc-js call the edge needs: cancellation events. */
interface AnyCall {
  on(event: "cancelled", listener: () => void): unknown;
  removeListener(event: "cancelled", listener: () => void): unknown;
}

function begin(info: MethodInfo, call: AnyCall, opts: EdgeOptions & { stream?: boolean }) {
  const controller = new AbortController();
  const abort = () => controller.abort(new Error("call cancelled"));
  call.on("cancelled", abort);
  const onShutdown = () => controller.abort(new Error("daemon is shutting down"));
  const shutdown = (opts.stream && opts.endStreams) || opts.shutdown;
  if (shutdown.aborted) onShutdown();
  shutdown.addEventListener("abort", onShutdown, { once: true });
  const ctx: CallContext = {
    requestId: nextRequestId(),
    method: info.name,
    signal: controller.signal,
  };
  const started = performance.now();
  opts.inflight?.enter();
  opts.log.debug("request", { id: ctx.requestId, method: info.name });
  const end = (err?: unknown) => {
    shutdown.removeEventListener("abort", onShutdown);
    call.removeListener("cancelled", abort);
    const seconds = (performance.now() - started) / 1000;
    const kind = err === undefined ? undefined : errorKind(err);
    opts.observer?.observe(info.name, seconds, kind);
    const fields = {
      id: ctx.requestId,
      method: info.name,
      duration_ms: Math.round(seconds * 1e6) / 1e3,
      outcome: kind ?? "OK",
    };
    if (kind === undefined) opts.log.debug("response", fields);
    else {
      const level = kind === "NotFound" || kind === "Unimplemented" ? "debug" : "warn";
      opts.log.log(level, "response", { ...fields, error: errorMessage(err) });
    }
  };
  return { ctx, end };
}

export function wrapUnary(
  info: MethodInfo,
  handler: UnaryHandler,
  opts: EdgeOptions,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const { ctx, end } = begin(info, call, opts);
    let result: Promise<unknown>;
    try {
      result = handler(call.request, ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (res) => {
        end();
        callback(null, res);
      },
      (err) => {
        end(err);
        callback(toServiceError(err));
      },
    ).finally(() => opts.inflight?.leave());
  };
}

export function wrapStream(
  info: MethodInfo,
  handler: StreamHandler,
  opts: EdgeOptions,
): grpc.handleServerStreamingCall<unknown, unknown> {
  return async (call) => {
    const { ctx, end } = begin(info, call, { ...opts, stream: true });
    try {
      for await (const msg of handler(call.request, ctx)) {
        if (ctx.signal.aborted) break;
        if (!call.write(msg)) await drained(call, ctx.signal);
      }
      end();
      call.end();
    } catch (err) {
      end(err);
      call.destroy(toServiceError(err) as grpc.ServiceError);
    } finally {
      opts.inflight?.leave();
    }
  };
}

/** Waits for the client to take more, or for the call to end (a cancelled call never drains). */
function drained(call: grpc.ServerWritableStream<unknown, unknown>, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const done = () => {
      call.removeListener("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
  });
}
