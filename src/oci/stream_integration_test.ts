/**
 * Integration (root): streaming exec and attach through conmon + runc and conmon + crun on a
 * busybox rootfs. Exec without a terminal (stdout, stderr, exit code), with a terminal (stdin echo,
 * a resize seen by `stty size`), of a missing command, a client that goes away mid-exec; attach to
 * a `sh` started with stdin (with and without a terminal); 100 exec sessions; then the leak check:
 * no conmon of ours, no exec directory or socket link left, the test's fds back to baseline.
 */
import { assert, assertEquals, assertStringIncludes } from "../testing/asserts.ts";
import { busyboxRootfs } from "../testing/busybox_rootfs.ts";
import {
  cleanup,
  CONMON,
  fds,
  has,
  newEnv,
  type OciTestEnv,
  processesWith,
  RUNTIMES,
  spec,
  uniqueSleep,
  waitFor,
  waitGone,
} from "../testing/oci_fixture.ts";
import { gatherHostFacts } from "./host_facts.ts";
import { readSpecialFile } from "./host.ts";
import type { StreamIO, TerminalSize } from "./stream_io.ts";

const encoder = new TextEncoder();

/** A writable that keeps what it gets. */
function sink() {
  let text = "";
  const decoder = new TextDecoder();
  return {
    stream: new WritableStream<Uint8Array>({
      write: (c) => void (text += decoder.decode(c, { stream: true })),
    }),
    text: () => text,
  };
}

/** A readable the test pushes into. */
function source<T>() {
  let ctl!: ReadableStreamDefaultController<T>;
  const stream = new ReadableStream<T>({ start: (c) => void (ctl = c) });
  return {
    stream,
    push: (v: T) => ctl.enqueue(v),
    end: () => {
      try {
        ctl.close();
      } catch { /* already cancelled by the session */ }
    },
  };
}

async function startContainer(
  env: OciTestEnv,
  command: string[],
  io: { tty?: boolean; stdin?: boolean } = {},
) {
  // 64 characters, as CRI ids are: the attach socket's path is then longer than sockaddr_un holds.
  const id = `${env.name}${crypto.randomUUID().replaceAll("-", "")}`.padEnd(64, "0");
  env.ids.push(id);
  const s = await spec(env, id, command, { config: { tty: io.tty, stdin: io.stdin } });
  const bundle = `${env.tmp}/bundles/${id}`;
  await env.runtime.create({
    id,
    bundle,
    spec: s,
    logPath: `${env.tmp}/logs/${id}.log`,
    terminal: io.tty,
    stdin: io.stdin,
    stdinOnce: false,
  });
  await env.runtime.start(id);
  return { id, bundle };
}

async function execChecks(env: OciTestEnv, id: string, bundle: string): Promise<string> {
  const rt = env.runtime;
  const out = sink(), err = sink();
  const cmd = ["sh", "-c", "echo out; echo err >&2; exit 3"];
  const t0 = performance.now();
  const r = await rt.execStream(id, {
    bundle,
    cmd,
    io: { stdout: out.stream, stderr: err.stream, tty: false },
  });
  const nonTtyMs = performance.now() - t0;
  assertEquals([out.text(), err.text(), r.exitCode], ["out\n", "err\n", 3]);

  // stdin without a terminal, ended by the client: cat sees end of file.
  const cin = source<Uint8Array>();
  const catOut = sink();
  const catDone = rt.execStream(id, {
    bundle,
    cmd: ["cat"],
    io: { stdin: cin.stream, stdout: catOut.stream, stderr: sink().stream, tty: false },
  });
  cin.push(encoder.encode("piped\n"));
  cin.end();
  assertEquals((await catDone).exitCode, 0);
  assertEquals(catOut.text(), "piped\n");

  // Large stdin chunks: conmon reads at most 32 KiB - 1 per attach message; nothing is lost.
  const big = source<Uint8Array>();
  const count = sink();
  const counted = rt.execStream(id, {
    bundle,
    cmd: ["wc", "-c"],
    io: { stdin: big.stream, stdout: count.stream, stderr: sink().stream, tty: false },
  });
  for (let i = 0; i < 4; i++) big.push(new Uint8Array(100_000).fill(97));
  big.end();
  assertEquals((await counted).exitCode, 0);
  assertEquals(count.text().trim(), "400000");

  // 50 MB of output, every byte delivered in order of arrival, with the caller's pace setting
  // conmon's (a slow writer stalls the socket, not memory).
  let bytes = 0;
  const tMb = performance.now();
  const flood = await rt.execStream(id, {
    bundle,
    cmd: ["head", "-c", "50000000", "/dev/zero"],
    io: {
      stdout: new WritableStream({ write: (c) => void (bytes += c.length) }),
      stderr: sink().stream,
      tty: false,
    },
  });
  const floodMs = performance.now() - tMb;
  assertEquals([flood.exitCode, bytes], [0, 50_000_000]);

  const missing = await rt.execStream(id, {
    bundle,
    cmd: ["no-such-command"],
    io: { stdout: sink().stream, stderr: sink().stream, tty: false },
  });
  assertEquals(missing.exitCode, 127);

  // A terminal: the resize reaches the pty before the command asks for its size.
  const tin = source<Uint8Array>();
  const size = source<TerminalSize>();
  const tout = sink();
  const ttyDone = rt.execStream(id, {
    bundle,
    cmd: ["sh", "-c", "read line; stty size; echo got:$line"],
    io: { stdin: tin.stream, stdout: tout.stream, tty: true, resize: size.stream },
  });
  size.push({ width: 123, height: 45 });
  await new Promise((r) => setTimeout(r, 300));
  tin.push(encoder.encode("hi\n"));
  const tty = await ttyDone;
  tin.end();
  size.end();
  assertEquals(tty.exitCode, 0);
  assertStringIncludes(tout.text(), "45 123");
  assertStringIncludes(tout.text(), "got:hi");

  // The client goes away: the exec'd process tree is killed and the call returns.
  const abort = new AbortController();
  const started = sink();
  const secs = uniqueSleep();
  const gone = rt.execStream(id, {
    bundle,
    cmd: ["sh", "-c", `echo started; sleep ${secs}1 & sleep ${secs}2`],
    io: { stdout: started.stream, tty: false, signal: abort.signal },
  });
  await waitFor("the exec to start", () => Promise.resolve(started.text() ? true : undefined));
  abort.abort();
  await gone;
  await waitGone("the aborted exec to die", `sleep ${secs}`, 5000);
  return `non-tty exec ${nonTtyMs.toFixed(0)} ms; 50 MB of stdout in ${floodMs.toFixed(0)} ms`;
}

async function attachChecks(env: OciTestEnv): Promise<void> {
  // critest's shape (stdin, no terminal), then a terminal with a resize: the shell runs each line.
  for (const tty of [false, true]) {
    const { id, bundle } = await startContainer(env, ["sh"], { tty, stdin: true });
    const input = source<Uint8Array>();
    const size = source<TerminalSize>();
    const out = sink();
    const abort = new AbortController();
    const io: StreamIO = {
      stdin: input.stream,
      stdout: out.stream,
      stderr: tty ? undefined : sink().stream,
      tty,
      resize: tty ? size.stream : undefined,
      signal: abort.signal,
    };
    const done = env.runtime.attach(id, { bundle, io });
    if (tty) size.push({ width: 77, height: 22 });
    await new Promise((r) => setTimeout(r, 200));
    input.push(encoder.encode(`echo hello-$((6*7))${tty ? "; stty size" : ""}\n`));
    const want = tty ? /hello-42[\s\S]*22 77/ : /hello-42/;
    await waitFor(
      "the attached shell's output",
      () => Promise.resolve(want.test(out.text()) ? true : undefined),
      10_000,
    );
    abort.abort();
    await done;
    input.end();
    size.end();
    await env.runtime.stop(id, { bundle, timeoutSeconds: 0 });
    await env.runtime.delete(id);
  }
}

/** Median start-to-exit of `true`: through conmon, and as a bare `runtime exec` for comparison. */
async function latency(env: OciTestEnv, id: string, bundle: string) {
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const viaConmon: number[] = [], bare: number[] = [];
  const processFile = `${env.tmp}/bare-process.json`;
  const spec = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`));
  await Deno.writeTextFile(processFile, JSON.stringify({ ...spec.process, args: ["true"] }));
  for (let i = 0; i < 7; i++) {
    let t0 = performance.now();
    await env.runtime.execStream(id, { bundle, cmd: ["true"], io: { tty: false } });
    viaConmon.push(performance.now() - t0);
    t0 = performance.now();
    const args = [`--root=${env.runtimeRoot}`, "exec", "--process", processFile, id];
    const r = await new Deno.Command(RUNTIMES[env.name], { args, stdout: "null" }).output();
    assertEquals(r.code, 0);
    bare.push(performance.now() - t0);
  }
  return `exec start-to-exit median: conmon ${median(viaConmon).toFixed(0)} ms, bare ` +
    `${env.name} exec ${median(bare).toFixed(0)} ms`;
}

async function manyExecs(env: OciTestEnv, id: string, bundle: string, n: number) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const out = sink();
    const tty = i % 3 === 1;
    const cmd = i % 3 === 2 ? ["missing-binary"] : ["echo", `n${i}`];
    const r = await env.runtime.execStream(id, {
      bundle,
      cmd,
      io: { stdout: out.stream, stderr: tty ? undefined : sink().stream, tty },
    });
    if (i % 3 === 2) assertEquals(r.exitCode, 127);
    else assertStringIncludes(out.text(), `n${i}`);
  }
  return (performance.now() - t0) / n;
}

for (const name of Object.keys(RUNTIMES)) {
  Deno.test({
    name: `streaming exec and attach through conmon + ${name}, then nothing leaks`,
    ignore: Deno.uid() !== 0 || !has(RUNTIMES[name]) || !has(CONMON),
    fn: async () => {
      const tmp = await Deno.makeTempDir({ prefix: `crio-deno-stream-${name}-` });
      let env: OciTestEnv | undefined;
      try {
        const facts = await gatherHostFacts({ runtimePath: RUNTIMES[name] });
        const baseline = await fds();
        env = newEnv(name, tmp, { facts, rootfs: await busyboxRootfs(tmp) });
        const { id, bundle } = await startContainer(env, ["sleep", "1000"]);
        const report = `${await execChecks(env, id, bundle)}; ${await latency(env, id, bundle)}`;
        await attachChecks(env);
        const perExec = await manyExecs(env, id, bundle, 100);
        await env.runtime.stop(id, { bundle, timeoutSeconds: 0 });
        await env.runtime.delete(id);
        const left = [...Deno.readDirSync(bundle)].filter((e) => e.name.startsWith("exec-"));
        assertEquals(left, [], "exec directories removed");
        assertEquals([...Deno.readDirSync(`${tmp}/attach`)], [], "no attach link left");
        await waitFor("conmon to exit", async () => {
          const p = await processesWith(tmp);
          return p.live.length === 0 ? true : undefined;
        });
        const mountinfo = (await readSpecialFile(`/proc/${Deno.pid}/mountinfo`)) ?? "";
        assert(!mountinfo.includes(tmp), "no mounts under the test directory");
        const now = await waitFor("fds back to baseline", async () => {
          const f = await fds();
          return f.length <= baseline.length ? f : undefined;
        }, 3000).catch(async () => await fds());
        assert(now.length <= baseline.length, `fds: ${baseline} -> ${now}`);
        // deno-lint-ignore no-console
        console.log(`${name}: ${report}; 100 execs, ${perExec.toFixed(1)} ms each`);
      } finally {
        await cleanup(env, tmp);
      }
    },
  });
}
