import { assert, assertEquals, assertRejects } from "../testing/asserts.ts";
import { denoHost, parseStat } from "./host.ts";
import { featuresSupportRro, kernelHasRro, statusMask } from "./host_facts.ts";

Deno.test("parseStat() reads state and parent past a hostile command name", () => {
  const cases: [string, { state: string; ppid: number } | undefined][] = [
    ["123 (conmon) S 1 123 123 0", { state: "S", ppid: 1 }],
    ["7 (a) b) (c) Z 42 7 7", { state: "Z", ppid: 42 }],
    ["garbage", undefined],
  ];
  for (const [text, want] of cases) assertEquals(parseStat(text), want, text);
});

Deno.test("host facts helpers parse /proc and `runtime features`", () => {
  const status = "Name:\tdeno\nCapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n";
  assertEquals([statusMask(status, "CapEff"), statusMask(status, "CapBnd")], [
    "000001fffeffffff",
    "000001ffffffffff",
  ]);
  assertEquals(featuresSupportRro('{"mountOptions":["ro","rro"]}'), true);
  assertEquals(featuresSupportRro('{"mountOptions":["ro"]}'), false);
  assertEquals(featuresSupportRro("unknown command features"), false);
  for (
    const [release, want] of [["6.1.0-18-amd64", true], ["5.12.0", true], ["5.11.9", false], [
      "4.19",
      false,
    ]] as const
  ) {
    assertEquals(kernelHasRro(release), want, release);
  }
});

Deno.test("denoHost.sleep() ends early when aborted, and writeFifo() never blocks", async () => {
  const abort = new AbortController();
  const t = Date.now();
  const slept = denoHost.sleep(10_000, abort.signal);
  abort.abort();
  await slept;
  assertEquals(Date.now() - t < 1000, true);
  const dir = await Deno.makeTempDir();
  try {
    const fifo = `${dir}/ctl`;
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    if (mk.success) await denoHost.writeFifo(fifo, "2 0 0\n"); // no reader: must not hang
    assertEquals(await denoHost.processState(2 ** 22 + 7), "gone");
    assertEquals(await denoHost.kill(2 ** 22 + 7, "SIGTERM"), false);
    assertEquals(await denoHost.readFile(`${dir}/missing`, 10), undefined);
    await denoHost.remove(`${dir}/missing`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoHost.writeFile(scratch) makes a new private file and never follows a link", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await denoHost.writeFile(`${dir}/p.json`, "{}", { scratch: true });
    assertEquals(await Deno.readTextFile(`${dir}/p.json`), "{}");
    assertEquals((await Deno.stat(`${dir}/p.json`)).mode! & 0o777, 0o600);
    await Deno.writeTextFile(`${dir}/target`, "kept");
    await Deno.symlink(`${dir}/target`, `${dir}/link.json`);
    await assertRejects(() => denoHost.writeFile(`${dir}/link.json`, "x", { scratch: true }));
    assertEquals(await Deno.readTextFile(`${dir}/target`), "kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoHost.readFile() sizes its buffer by the file and still stops at the bound", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/small`, "hello");
    const small = (await denoHost.readFile(`${dir}/small`, 16 << 20))!;
    assertEquals(new TextDecoder().decode(small), "hello");
    assert(small.buffer.byteLength <= 4096, `a 5-byte file took ${small.buffer.byteLength} bytes`);
    const big = new Uint8Array(100_000).map((_, i) => i % 251);
    await Deno.writeFile(`${dir}/big`, big);
    assertEquals(await denoHost.readFile(`${dir}/big`, 1 << 20), big);
    assertEquals(await denoHost.readFile(`${dir}/big`, 70_000), big.subarray(0, 70_000));
    // A FIFO reports size 0, as /proc files do: the buffer grows as the content arrives.
    const fifo = `${dir}/fifo`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const writer = Deno.open(fifo, { write: true }).then(async (w) => {
      await w.write(big.subarray(0, 20_000));
      w.close();
    });
    assertEquals(await denoHost.readFile(fifo, 1 << 20), big.subarray(0, 20_000));
    await writer;
    assertEquals(await denoHost.readFile(`${dir}/missing`, 10), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
