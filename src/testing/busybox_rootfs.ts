/**
 * A minimal root filesystem for integration tests: Debian's static busybox with a symlink per
 * applet, /etc/passwd and /etc/group, and the empty mount points runc and crun expect.
 */
export const BUSYBOX = "/bin/busybox";

export async function busyboxRootfs(dir: string): Promise<string> {
  const root = `${dir}/rootfs`;
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user"]) {
    await Deno.mkdir(`${root}/${d}`, { recursive: true });
  }
  await Deno.chmod(`${root}/tmp`, 0o1777);
  await Deno.copyFile(BUSYBOX, `${root}/bin/busybox`);
  await Deno.chmod(`${root}/bin/busybox`, 0o755);
  const list = await new Deno.Command(BUSYBOX, { args: ["--list"], stdout: "piped" }).output();
  for (const applet of new TextDecoder().decode(list.stdout).split("\n")) {
    if (applet && applet !== "busybox") await Deno.symlink("busybox", `${root}/bin/${applet}`);
  }
  await Deno.writeTextFile(
    `${root}/etc/passwd`,
    "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n" +
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  await Deno.writeTextFile(
    `${root}/etc/group`,
    "root:x:0:\nuser:x:1000:\nextra:x:50000:user\nnogroup:x:65534:\n",
  );
  return root;
}
