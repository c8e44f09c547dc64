/**
 * A socket held as a raw fd and driven through libc, for the two sockets Deno cannot open: conmon's
 * attach socket (AF_UNIX SOCK_SEQPACKET, where every message keeps its boundary) and a TCP socket
 * created inside a pod's network namespace (src/net/netns_dial.ts). A read or write that would
 * wait goes through the `nonblocking` FFI symbols, so recv(2)/send(2) wait on a pool thread, never
 * on the event loop; close() first shuts the socket down, which wakes a blocked recv or send, and only
 * then releases the fd, so a number in use by a pending call is never reused.
 *
 * Cost: a waiting read holds one thread of Deno's blocking pool (so does a send the peer is not
 * draining) for as long as the session is idle; sessions are few and bounded by the streaming
 * server, and every thread returns to the pool when its socket closes. A single poll(2) loop would
 * hold one thread for all, at the price of a wake-up fd and per-fd readiness bookkeeping.
 */
import { cstr as cstring, errno, lazyLibrary, libcPath } from "./libc_io.ts";

export { cstring, errno };

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  socketpair: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize", nonblocking: true },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize", nonblocking: true },
  /** The same two calls on this thread, with MSG_DONTWAIT: they never wait. */
  recvNow: { name: "recv", parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  sendNow: { name: "send", parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  /** fcntl(fd, F_SETFL, flags): an int vararg passes like a fixed int on x86-64 and arm64. */
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
} as const;

/** The libc symbols; exported for the netns dial worker, which runs them on its own thread. */
export const socketLibc = lazyLibrary(libcPath, SYMBOLS);

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const F_SETFL = 4;
const O_PATH_CLOEXEC = 0o10000000 | 0o2000000;
/** Below conmon's CONN_SOCK_BUF_SIZE - 1 (32767), with room to spare. */
export const CONMON_MAX_MESSAGE = 16 << 10;
const SHUT_WR = 1;
const SHUT_RDWR = 2;
/** A peer that went away must not SIGPIPE the daemon. */
const MSG_NOSIGNAL = 0x4000;
const MSG_DONTWAIT = 0x40;

/** What a connection to a peer offers; FdSocket is the real one, tests pass fakes. */
export interface PacketConn {
  /** One message (SEQPACKET) or chunk (STREAM); null at end of stream or once closed. */
  read(): Promise<Uint8Array | null>;
  /** Everything is written, or it rejects (peer gone, socket closed). */
  write(data: Uint8Array): Promise<void>;
  /** Half-close: the peer reads end of stream; reading goes on. */
  closeWrite(): void;
  /** Idempotent; resolves once no call uses the fd any more and it is closed. */
  close(): Promise<void>;
}

export class FdSocket implements PacketConn {
  #fd: number;
  #closed = false;
  #writeShut = false;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #bufSize: number;
  readonly #maxMessage: number;

  /**
   * Takes ownership of fd. bufSize bounds one read (conmon sends at most 8 KiB + 1 per message);
   * maxMessage splits writes on a SEQPACKET socket whose reader takes bounded messages.
   */
  constructor(fd: number, options: { bufSize?: number; maxMessage?: number } = {}) {
    this.#fd = fd;
    this.#bufSize = options.bufSize ?? 32 << 10;
    this.#maxMessage = options.maxMessage ?? Infinity;
  }

  /**
   * Connects to a SOCK_SEQPACKET unix socket. A path too long for sockaddr_un (conmon's attach
   * socket under a long socket dir) is reached through its directory's fd, as conmon binds it.
   */
  static connectSeqpacket(path: string): FdSocket {
    const c = socketLibc();
    let dirFd = -1;
    let target = path;
    if (encoder.encode(path).length >= 108) {
      const slash = path.lastIndexOf("/");
      dirFd = c.open(cstring(path.slice(0, slash) || "/"), O_PATH_CLOEXEC);
      if (dirFd < 0) {
        throw new Deno.errors.NotFound(`open ${path.slice(0, slash)}: errno ${errno()}`);
      }
      target = `/proc/self/fd/${dirFd}/${path.slice(slash + 1)}`;
    }
    try {
      const addr = sockaddrUn(target);
      // Non-blocking for the connect only: a wedged conmon with a full backlog would otherwise
      // hold this thread, the event loop's, inside connect(2).
      const fd = c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      if (fd < 0) throw new Error(`socket: errno ${errno()}`);
      if (c.connect(fd, addr, addr.length) !== 0 || c.fcntl(fd, F_SETFL, 0) !== 0) {
        const e = errno();
        c.close(fd);
        throw new Deno.errors.ConnectionRefused(`connect ${path}: errno ${e}`);
      }
      // conmon reads 32 KiB - 1 bytes per attach message and drops the rest of a longer one.
      return new FdSocket(fd, { maxMessage: CONMON_MAX_MESSAGE });
    } finally {
      if (dirFd >= 0) c.close(dirFd);
    }
  }

  /** A connected pair (tests). */
  static pair(
    type = SOCK_SEQPACKET,
    options: { maxMessage?: number } = {},
  ): [FdSocket, FdSocket] {
    const fds = new Int32Array(2);
    const rc = socketLibc().socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, new Uint8Array(fds.buffer));
    if (rc !== 0) throw new Error(`socketpair: errno ${errno()}`);
    return [new FdSocket(fds[0], options), new FdSocket(fds[1], options)];
  }

  get fd(): number {
    return this.#fd;
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    const done = () => this.#pending.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * What is already queued is taken at once on this thread (MSG_DONTWAIT); only an empty socket
   * costs a pool thread, which waits for the next message. Under a flood of output that keeps
   * the thread hand-off off the path of every message.
   */
  async read(): Promise<Uint8Array | null> {
    if (this.#closed) return null;
    const c = socketLibc();
    const buf = new Uint8Array(this.#bufSize);
    let n = Number(c.recvNow(this.#fd, buf, BigInt(buf.length), MSG_DONTWAIT));
    // -1 is mostly EAGAIN; the waiting call settles it either way, so errno (which the runtime
    // may have touched since) is never consulted.
    if (n < 0) n = Number(await this.#track(c.recv(this.#fd, buf, BigInt(buf.length), 0)));
    // -1 (reset, or shut down under us) ends the stream like 0 does: the peer is unusable.
    return n > 0 && !this.#closed ? buf.subarray(0, n) : null;
  }

  async write(data: Uint8Array): Promise<void> {
    const c = socketLibc();
    let off = 0;
    // A copy: a pool thread may read it while the caller reuses its buffer.
    const buf = data.slice();
    while (off < buf.length) {
      if (this.#closed || this.#writeShut) throw new Deno.errors.BrokenPipe("socket closed");
      const rest = buf.subarray(off, off + this.#maxMessage);
      const len = BigInt(rest.length);
      let n = Number(c.sendNow(this.#fd, rest, len, MSG_NOSIGNAL | MSG_DONTWAIT));
      if (n < 0) n = Number(await this.#track(c.send(this.#fd, rest, len, MSG_NOSIGNAL)));
      if (n <= 0) throw new Deno.errors.BrokenPipe("the peer closed the socket");
      off += n;
    }
  }

  closeWrite(): void {
    if (this.#closed || this.#writeShut) return;
    this.#writeShut = true;
    socketLibc().shutdown(this.#fd, SHUT_WR);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const c = socketLibc();
    c.shutdown(this.#fd, SHUT_RDWR);
    await Promise.allSettled([...this.#pending]);
    c.close(this.#fd);
    this.#fd = -1;
  }
}

const encoder = new TextEncoder();

/** struct sockaddr_un for path. */
export function sockaddrUn(path: string): Uint8Array<ArrayBuffer> {
  const p = encoder.encode(path);
  if (p.length >= 108) throw new Error(`unix socket path too long (${p.length} bytes): ${path}`);
  const addr = new Uint8Array(2 + 108);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(p, 2);
  return addr;
}

/** struct sockaddr_in / sockaddr_in6 for a loopback address and port. */
export function sockaddrLoopback(family: number, port: number): Uint8Array<ArrayBuffer> {
  const addr = new Uint8Array(family === AF_INET6 ? 28 : 16);
  const v = new DataView(addr.buffer);
  v.setUint16(0, family, true);
  v.setUint16(2, port, false);
  if (family === AF_INET6) addr[23] = 1; // ::1
  else addr.set([127, 0, 0, 1], 4);
  return addr;
}
