import { assertEquals } from "../testing/asserts.ts";
import { FdSocket } from "../util/fd_socket.ts";
import { forwardResizes, joinConmonSocket, resizeMessage, type TerminalSize } from "./stream_io.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => (b ? new TextDecoder().decode(b) : null);
const frame = (pipe: number, s: string) => new Uint8Array([pipe, ...enc(s)]);

function sink() {
  let text = "";
  return {
    stream: new WritableStream<Uint8Array>({ write: (c) => void (text += dec(c)) }),
    text: () => text,
  };
}

function source<T>() {
  let ctl!: ReadableStreamDefaultController<T>;
  const stream = new ReadableStream<T>({ start: (c) => void (ctl = c) });
  return { stream, push: (v: T) => ctl.enqueue(v), end: () => ctl.close() };
}

Deno.test("conmon's pipe byte routes stdout and stderr; stdin, its end and resizes reach conmon", async () => {
  const [client, conmon] = FdSocket.pair();
  const out = sink(), err = sink();
  const stdin = source<Uint8Array>();
  const resize = source<TerminalSize>();
  const ctl: string[] = [];
  const done = joinConmonSocket(client, {
    stdin: stdin.stream,
    stdout: out.stream,
    stderr: err.stream,
    resize: resize.stream,
    tty: true,
  }, { writeCtl: (l) => Promise.resolve(void ctl.push(l)) });
  resize.push({ width: 123, height: 45 });
  stdin.push(enc("input"));
  assertEquals(dec(await conmon.read()), "input");
  stdin.end();
  assertEquals(await conmon.read(), null, "the end of stdin is a half-close");
  await conmon.write(frame(2, "out"));
  await conmon.write(frame(3, "err"));
  await conmon.write(frame(9, "ignored"));
  await conmon.close();
  await done;
  assertEquals([out.text(), err.text(), ctl], ["out", "err", ["1 45 123\n"]]);
});

Deno.test("an aborted session stops forwarding and closes the socket", async () => {
  const [client, conmon] = FdSocket.pair();
  const abort = new AbortController();
  let aborted = 0;
  const stdin = source<Uint8Array>();
  const done = joinConmonSocket(client, {
    stdin: stdin.stream,
    stdout: sink().stream,
    tty: true,
    signal: abort.signal,
  }, { writeCtl: () => Promise.resolve(), onAbort: () => void aborted++ });
  abort.abort();
  await done;
  assertEquals(aborted, 1);
  assertEquals(await conmon.read(), null, "the client's socket is closed");
  await conmon.close();
});

Deno.test("without a terminal, resizes are read and dropped", async () => {
  const [client, conmon] = FdSocket.pair();
  const resize = source<TerminalSize>();
  const ctl: string[] = [];
  const done = joinConmonSocket(client, {
    stdout: sink().stream,
    resize: resize.stream,
    tty: false,
  }, {
    writeCtl: (l) => Promise.resolve(void ctl.push(l)),
  });
  resize.push({ width: 1, height: 2 });
  await conmon.write(frame(2, "x"));
  await conmon.close();
  await done;
  assertEquals(ctl, []);
});

Deno.test("resize messages are clamped to what conmon accepts", () => {
  assertEquals(resizeMessage({ width: 5000, height: -3 }), "1 0 1000\n");
});

Deno.test("forwardResizes holds sizes until ready, then sends the latest, then each", async () => {
  const sent: string[] = [];
  let open!: () => void;
  const ready = new Promise<void>((r) => (open = r));
  const sizes = new TransformStream<TerminalSize, TerminalSize>();
  const w = sizes.writable.getWriter();
  const done = forwardResizes(sizes.readable.getReader(), {
    tty: true,
    ready,
    send: (s) => Promise.resolve(void sent.push(`${s.height}x${s.width}`)),
    finished: () => false,
  });
  await w.write({ width: 80, height: 24 });
  await w.write({ width: 100, height: 30 });
  assertEquals(sent, [], "nothing before the terminal exists");
  open();
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(sent, ["30x100"], "only the latest held size");
  await w.write({ width: 120, height: 40 });
  await w.close();
  await done;
  assertEquals(sent, ["30x100", "40x120"]);
});

Deno.test("forwardResizes drops sizes without a terminal", async () => {
  const sent: TerminalSize[] = [];
  const sizes = ReadableStream.from([{ width: 1, height: 2 }]);
  await forwardResizes(sizes.getReader(), {
    tty: false,
    send: (s) => Promise.resolve(void sent.push(s)),
    finished: () => false,
  });
  assertEquals(sent, []);
});
