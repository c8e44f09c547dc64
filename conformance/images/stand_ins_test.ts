/**
 * Runs the stand-in programs from their own image contents (extracted and
 * chrooted into, no container runtime) and checks them against what critest
 * asserts. Needs root for chroot and setuid; skipped otherwise.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { critestCatalog, type Recipe } from "./critest_catalog.ts";
import { buildLayer } from "./layer.ts";
import { BUSYBOX, busyboxRootfs } from "./rootfs.ts";

const isRoot = Deno.uid() === 0;
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function recipe(ref: string): Recipe {
  const found = critestCatalog().recipes.find((r) => r.refs.includes(ref));
  assert(found, ref);
  return found;
}

/**
 * Unpacks base + extra layers into a fresh dir, as a runtime would (root, -p),
 * and adds what a runtime provides: a traversable / and /dev/null.
 */
async function unpack(r: Recipe): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "stand-in-root-" });
  await Deno.chmod(root, 0o755);
  try {
    const layers = [await buildLayer(await busyboxRootfs()), await buildLayer(r.extra ?? [])];
    for (const layer of layers) {
      const child = new Deno.Command("/usr/bin/tar", {
        args: ["-xzpf", "-", "-C", root, "--numeric-owner"],
        stdin: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      await writer.write(layer.blob);
      await writer.close();
      const out = await child.output();
      assertEquals(out.code, 0, decode(out.stderr));
    }
    await run(BUSYBOX, ["mknod", "-m", "666", `${root}/dev/null`, "c", "1", "3"]);
  } catch (err) {
    await Deno.remove(root, { recursive: true });
    throw err;
  }
  return root;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assertEquals(out.code, 0, `${cmd} ${args.join(" ")}: ${decode(out.stderr)}`);
  return decode(out.stdout);
}

async function eventually<T>(fn: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name: "hostnet nginx stand-in: pid file, pidof, master title, HTTP 200 on 12003, TERM exits 0",
  ignore: !isRoot,
  fn: async () => {
    const root = await unpack(recipe("gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64"));
    const child = new Deno.Command("/usr/sbin/chroot", {
      args: [root, "/usr/local/bin/nginx-start"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const pid = await eventually(async () => {
        const text = (await Deno.readTextFile(`${root}/var/run/nginx.pid`)).trim();
        return text === "" ? undefined : text;
      }, "nginx.pid");
      assertEquals(pid, String(child.pid), "the pid file names the process critest will find");
      assert((await run(BUSYBOX, ["pidof", "nginx"])).trim().split(" ").includes(pid));
      const cmdline = await run(BUSYBOX, ["cat", `/proc/${pid}/cmdline`]);
      assert(cmdline.includes("master process"), cmdline);

      const page = await eventually(async () => {
        const res = await fetch("http://127.0.0.1:12003/");
        return res.status === 200 ? await res.text() : (await res.body?.cancel(), undefined);
      }, "HTTP 200 on 12003");
      assert(page.includes("Welcome to nginx!"), page);
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone; its exit code below says why.
      }
      const out = await child.output();
      await Deno.remove(root, { recursive: true });
      assertEquals(out.code, 0, `nginx stand-in must exit 0 on TERM: ${decode(out.stderr)}`);
    }
  },
});

Deno.test({
  name: "nonewprivs stand-in: setuid root unless no_new_privs",
  ignore: !isRoot,
  fn: async () => {
    const root = await unpack(recipe("registry.k8s.io/e2e-test-images/nonewprivs:1.3"));
    try {
      const chroot = [root, "/usr/local/bin/nnp"];
      const userspec = ["/usr/sbin/chroot", "--userspec=1000:1000"];
      assertEquals(await run(userspec[0], [userspec[1], ...chroot]), "Effective uid: 0\n");
      assertEquals(
        await run("/usr/bin/setpriv", ["--no-new-privs", ...userspec, ...chroot]),
        "Effective uid: 1000\n",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
