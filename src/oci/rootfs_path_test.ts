import { assertEquals, assertRejects } from "../testing/asserts.ts";
import { FailedPreconditionError } from "../errors.ts";
import { readFileInRoot, resolveInRoot } from "./rootfs_path.ts";

async function fixture(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "rootfs-path-" });
  await Deno.mkdir(`${root}/etc`);
  await Deno.mkdir(`${root}/real/dir`, { recursive: true });
  await Deno.writeTextFile(`${root}/etc/passwd`, "root:x:0:0:root:/root:/bin/sh\n");
  await Deno.symlink("../../../../../etc", `${root}/escape`); // climbs to the rootfs's /
  await Deno.symlink("/real/dir", `${root}/abs`);
  await Deno.symlink("loop2", `${root}/loop1`);
  await Deno.symlink("loop1", `${root}/loop2`);
  await Deno.symlink("/dev/zero", `${root}/etc/group`);
  await Deno.mkdir(`${root}/dev`);
  return root;
}

Deno.test("resolveInRoot() keeps every symlink inside the rootfs", async () => {
  const root = await fixture();
  try {
    const cases: [string, string][] = [
      ["/etc/passwd", `${root}/etc/passwd`],
      ["/escape/passwd", `${root}/etc/passwd`],
      ["/../../etc/passwd", `${root}/etc/passwd`],
      ["/abs/x", `${root}/real/dir/x`],
      ["/abs/../../..", root],
      ["/missing/a/b", `${root}/missing/a/b`],
      ["/etc/passwd/x", `${root}/etc/passwd/x`],
      ["/etc/group", `${root}/dev/zero`],
    ];
    for (const [path, want] of cases) assertEquals(await resolveInRoot(root, path), want, path);
    await assertRejects(() => resolveInRoot(root, "/loop1"), FailedPreconditionError, "symlinks");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("readFileInRoot() reads regular files and refuses devices, dirs and big files", async () => {
  const root = await fixture();
  try {
    const text = new TextDecoder().decode(
      await readFileInRoot(root, "/escape/passwd", { maxBytes: 1024 }),
    );
    assertEquals(text, "root:x:0:0:root:/root:/bin/sh\n");
    assertEquals(await readFileInRoot(root, "/etc/shadow", { maxBytes: 10 }), undefined);
    await assertRejects(
      () => readFileInRoot(root, "/etc/passwd", { maxBytes: 10 }),
      FailedPreconditionError,
      "larger than 10 bytes",
    );
    await assertRejects(
      () => readFileInRoot(root, "/etc", { maxBytes: 10 }),
      FailedPreconditionError,
    );
    // /etc/group -> /dev/zero resolves to the rootfs's dev/zero: absent here, never the host's.
    assertEquals(await readFileInRoot(root, "/etc/group", { maxBytes: 10 }), undefined);
    const fifo = new Deno.Command("mkfifo", { args: [`${root}/dev/zero`] });
    if ((await fifo.output()).success) {
      await assertRejects(
        () => readFileInRoot(root, "/etc/group", { maxBytes: 10 }),
        FailedPreconditionError,
        "not a regular file",
      );
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
