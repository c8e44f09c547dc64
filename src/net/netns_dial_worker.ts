/**
 * The worker side of netns_dial.ts: one request, answered with a connected fd or an error. Runs
 * its libc calls synchronously, so they happen on this worker's own thread (the one setns moved).
 */
import {
  AF_INET,
  AF_INET6,
  cstring,
  errno,
  SOCK_CLOEXEC,
  SOCK_STREAM,
  sockaddrLoopback,
  socketLibc,
} from "../util/fd_socket.ts";
import type { DialReply, DialRequest } from "./netns_dial.ts";

const O_RDONLY_CLOEXEC = 0o2000000;
const CLONE_NEWNET = 0x40000000;
const SOL_SOCKET = 1;
const SO_SNDTIMEO = 21;
const ECONNREFUSED = 111;

function timeval(ms: number): Uint8Array<ArrayBuffer> {
  const t = new BigInt64Array([BigInt(Math.floor(ms / 1000)), BigInt((ms % 1000) * 1000)]);
  return new Uint8Array(t.buffer);
}

function enter(path: string): void {
  const c = socketLibc();
  const fd = c.open(cstring(path), O_RDONLY_CLOEXEC);
  if (fd < 0) throw new Error(`open ${path}: errno ${errno()}`);
  const rc = c.setns(fd, CLONE_NEWNET);
  const e = errno();
  c.close(fd);
  if (rc !== 0) throw new Error(`setns ${path}: errno ${e}`);
}

/** 127.0.0.1 first, then ::1, as "localhost" resolves. */
function connectLoopback(port: number, timeoutMs: number): number {
  const c = socketLibc();
  let last = ECONNREFUSED;
  for (const family of [AF_INET, AF_INET6]) {
    const fd = c.socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = errno();
      continue;
    }
    // SO_SNDTIMEO bounds a blocking connect; it is cleared again for the data that follows.
    c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeval(timeoutMs), 16);
    const addr = sockaddrLoopback(family, port);
    if (c.connect(fd, addr, addr.length) === 0) {
      c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, timeval(0), 16);
      return fd;
    }
    last = errno();
    c.close(fd);
  }
  throw new Error(last === ECONNREFUSED ? "connection refused" : `connect: errno ${last}`);
}

/** The worker's global scope (the project's type checking uses the window lib). */
const scope = self as unknown as {
  onmessage: (e: MessageEvent<DialRequest>) => void;
  postMessage(reply: DialReply): void;
};

scope.onmessage = (e) => {
  let reply: DialReply;
  try {
    if (e.data.netns) enter(e.data.netns);
    reply = { fd: connectLoopback(e.data.port, e.data.timeoutMs) };
  } catch (err) {
    reply = { error: err instanceof Error ? err.message : String(err) };
  }
  scope.postMessage(reply);
};
