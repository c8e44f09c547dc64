import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { BUSYBOX, busyboxRootfs } from "./rootfs.ts";
import type { FileEntry, TarEntry } from "./tar_writer.ts";

/** Every command critest v1.37.0 runs in its busybox-based containers. */
// deno-fmt-ignore
const CRITEST_COMMANDS = [
  "sh", "sleep", "cat", "echo", "ls", "top", "httpd", "nc", "id", "whoami", "ps", "env", "grep",
  "wget", "true", "false", "pidof", "hostname", "ping", "brctl", "netstat", "seq", "mount",
  "touch", "chmod", "mkdir", "sync", "pgrep", "ipcs",
];

const entries = await busyboxRootfs();
const byPath = new Map<string, TarEntry>(entries.map((e) => [e.path, e]));

function script(path: string): string {
  const entry = byPath.get(path) as FileEntry | undefined;
  assert(entry, `${path} missing`);
  return entry.data as string;
}

async function runScript(path: string, args: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "rootfs-test-" });
  try {
    await Deno.writeTextFile(`${dir}/prog`, script(path));
    const out = await new Deno.Command(BUSYBOX, {
      args: ["sh", `${dir}/prog`, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("base layer has busybox and a command for everything critest runs", () => {
  const busybox = byPath.get("bin/busybox");
  assert(busybox?.type === "file" && busybox.mode === 0o755);
  const names = new Set(entries.map((e) => e.path.slice(e.path.lastIndexOf("/") + 1)));
  for (const cmd of CRITEST_COMMANDS) assert(names.has(cmd), `no ${cmd} in the base layer`);
  const sh = byPath.get("bin/sh");
  assert(sh?.type === "hardlink" && sh.target === "bin/busybox", "applets are hard links");
  assertEquals(byPath.get("tmp")?.mode, 0o1777);
});

Deno.test("base accounts include root and www-data", () => {
  const passwd = script("etc/passwd");
  assert(passwd.startsWith("root:x:0:0:root:/root:/bin/sh\n"), passwd);
  assert(passwd.includes("\nwww-data:x:33:33:"), passwd);
  assert(script("etc/group").includes("\nwww-data:x:33:\n"));
});

Deno.test("pgrep stand-in finds a process by name and is silent when none match", async () => {
  if (!byPath.has("usr/bin/pgrep")) return; // busybox has its own
  const sleeper = new Deno.Command(BUSYBOX, { args: ["sleep", "5"], stdout: "null" }).spawn();
  try {
    const found = await runScript("usr/bin/pgrep", ["busybox"]);
    assertEquals(found.code, 0);
    assert(found.stdout.split("\n").includes(String(sleeper.pid)), found.stdout);
    assertEquals(await runScript("usr/bin/pgrep", ["no-such-process-xyz"]), {
      code: 1,
      stdout: "",
      stderr: "",
    });
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
});

Deno.test("ipcs stand-in lists shared memory without errors", async () => {
  if (!byPath.has("usr/bin/ipcs")) return;
  const out = await runScript("usr/bin/ipcs", ["-m"]);
  assertEquals([out.code, out.stderr], [0, ""]);
  assert(out.stdout.includes("Shared Memory Segments"));
  assert(!/\d/.test(out.stdout.split("\n").slice(0, 3).join("")), "header must hold no digits");
});

Deno.test("the image's sh execs what PATH names, so a masked command fails as upstream's does", async () => {
  // critest's MaskedPaths spec: /bin/ls masked (not a regular file) → "/bin/sh: ls: Permission
  // denied". A shell that runs the ls applet in-process would list the directory instead.
  const dir = await Deno.makeTempDir({ prefix: "rootfs-sh-" });
  try {
    await Deno.mkdir(`${dir}/ls`);
    const out = await new Deno.Command(BUSYBOX, {
      args: ["sh", "-c", "ls"],
      env: { PATH: dir },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(new TextDecoder().decode(out.stderr), "sh: ls: Permission denied\n");
    assertEquals(out.stdout.length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the base layer carries the libraries busybox loads", () => {
  const libs = entries.filter((e) => e.type === "file" && /\.so(\.\d+)*$/.test(e.path));
  assert(libs.some((e) => /(^|\/)libc\.so\.6$/.test(e.path)), "libc");
  assert(libs.some((e) => /ld-linux/.test(e.path)), "the loader");
  for (const lib of libs) {
    const parent = lib.path.slice(0, lib.path.lastIndexOf("/"));
    assert(byPath.get(parent)?.type === "dir", `${parent} is in the layer`);
  }
});
