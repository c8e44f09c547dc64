import { assert, assertEquals, assertRejects } from "../../testing/asserts.ts";
import type { RunOptions, RunResult } from "../../util/host_runner.ts";
import { mountRootfs, unmountRootfs } from "./rootfs.ts";

function recorder(answer: (args: readonly string[]) => Partial<RunResult> = () => ({})) {
  const calls: { cmd: string; options: RunOptions }[] = [];
  return {
    calls,
    binaries: {
      mount: "/bin/mount",
      mounter: { unmount: () => false, mountFs: () => {} },
      runner: {
        run(cmd: string, options: RunOptions = {}): Promise<RunResult> {
          calls.push({ cmd, options });
          return Promise.resolve({
            code: 0,
            stdout: "",
            stderr: "",
            ...answer(options.args ?? []),
          });
        },
      },
    },
  };
}

Deno.test("lowerdirs are short relative links, so 150 layers fit in one page", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rootfs-" });
  try {
    const lowers = Array.from(
      { length: 150 },
      (_, i) => `${dir}/layers/${"a".repeat(60)}${i}/diff`,
    );
    const r = recorder();
    await mountRootfs({ storageDir: `${dir}/c`, merged: `${dir}/merged` }, {
      ...r.binaries,
      lowers,
    });
    const [call] = r.calls;
    assertEquals(call.options.cwd, `${dir}/c`);
    const opts = call.options.args![call.options.args!.indexOf("-o") + 1];
    assert(opts.length < 4096, `${opts.length} bytes`);
    assert(opts.startsWith("lowerdir=l/0:l/1:"));
    assert(opts.includes("upperdir=upper,workdir=work"));
    assertEquals(await Deno.readLink(`${dir}/c/l/0`), lowers[0]);
    assertEquals(await Deno.readLink(`${dir}/c/l/${(149).toString(36)}`), lowers[149]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an image without layers mounts an empty lower", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rootfs-" });
  try {
    const r = recorder();
    await mountRootfs({ storageDir: `${dir}/c`, merged: `${dir}/m` }, {
      ...r.binaries,
      lowers: [],
    });
    assertEquals(await Deno.readLink(`${dir}/c/l/0`), `${dir}/c/empty`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unmount is idempotent, lazy when busy, and reports other failures", async () => {
  const calls: string[] = [];
  const mounter = (fail: (detach: boolean) => string | undefined) => ({
    ...recorder().binaries,
    mounter: {
      unmount(path: string, o: { detach?: boolean } = {}) {
        calls.push(`${o.detach ? "detach " : ""}${path}`);
        const err = fail(o.detach ?? false);
        if (err) throw new Error(`umount ${path}: ${err}`);
        return !o.detach;
      },
      mountFs() {},
    },
  });
  await unmountRootfs("/m", mounter(() => undefined));
  await unmountRootfs("/m", mounter((detach) => (detach ? undefined : "EBUSY")));
  assertEquals(calls, ["/m", "/m", "detach /m"]);
  await assertRejects(() => unmountRootfs("/m", mounter(() => "EPERM")), Error, "EPERM");
});
