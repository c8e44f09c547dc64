import { assertEquals } from "../testing/asserts.ts";
import { FakeHost } from "../testing/fake_host.ts";
import { NamespaceManager } from "./namespaces.ts";

Deno.test("prepare() makes each pin dir a private bind mount of itself with mount(2), once", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "ns-unit-" }));
  try {
    const host = new FakeHost();
    const ns = new NamespaceManager({
      dir: `${dir}/ns`,
      runner: host.runner,
      mountPoints: host.mountPoints,
      mounter: host.mounter,
    });
    await ns.prepare();
    const calls = () => host.calls.map((c) => [c.cmd, ...c.args].join(" "));
    assertEquals(
      calls(),
      ["net", "ipc", "uts"].flatMap((k) => [
        `syscall:mount --bind ${dir}/ns/${k}ns ${dir}/ns/${k}ns`,
        `syscall:mount --make-private ${dir}/ns/${k}ns`,
      ]),
    );
    // A restarted daemon finds them mounted: only their propagation is set again.
    host.calls.length = 0;
    await ns.prepare();
    assertEquals(
      calls(),
      ["net", "ipc", "uts"].map((k) => `syscall:mount --make-private ${dir}/ns/${k}ns`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
