/**
 * The daemon end to end on a temporary socket: real gRPC, real config loading, no root needed.
 */
import * as grpc from "@grpc/grpc-js";
import { assert, assertEquals, assertRejects, assertStringIncludes } from "../testing/asserts.ts";
import { CriTestClient } from "../testing/cri_client.ts";
import { loadConfig } from "../config/load.ts";
import { loadSchema } from "../cri/schema.ts";
import { ConfigError } from "../errors.ts";
import { Logger } from "../log.ts";
import { Daemon } from "./serve.ts";

async function tempDaemon(extra = "") {
  const dir = await Deno.makeTempDir({ prefix: "crio-serve-test-" });
  await Deno.mkdir(`${dir}/net.d`);
  await Deno.writeTextFile(
    `${dir}/crio.conf`,
    `[crio]\nversion_file = "${dir}/version"\nclean_shutdown_file = "${dir}/clean"\n` +
      `root = "${dir}/root"\nrunroot = "${dir}/run"\n` +
      `[crio.api]\nlisten = "${dir}/sock/crio.sock"\n` +
      `[crio.runtime]\ndefault_runtime = "sh-runtime"\nnamespaces_dir = "${dir}/ns"\n` +
      `[crio.runtime.runtimes.sh-runtime]\nruntime_path = "/bin/sh"\n` +
      `[crio.network]\nnetwork_dir = "${dir}/net.d"\n${extra}`,
  );
  const load = () => loadConfig({ configFile: `${dir}/crio.conf`, configDir: `${dir}/none` });
  const lines: string[] = [];
  const log = new Logger({ sink: { write: (l) => lines.push(l) } });
  const daemon = new Daemon({ loaded: await load(), load, log });
  return { dir, daemon, lines, socket: `${dir}/sock/crio.sock` };
}

Deno.test("serves Version, Status, RuntimeConfig; others are UNIMPLEMENTED by name", async () => {
  const t = await tempDaemon();
  await t.daemon.start();
  const client = new CriTestClient(t.socket, loadSchema());
  try {
    assertEquals((await Deno.stat(t.socket)).mode! & 0o777, 0o660);
    const v = await client.call("RuntimeService", "Version", { version: "0.1.0" });
    assertEquals(v.runtimeApiVersion, "v1");
    assertEquals(v.runtimeName, "crio-deno");
    const s = await client.call<{ status: { conditions: { type: string; status: boolean }[] } }>(
      "RuntimeService",
      "Status",
    );
    const cond = Object.fromEntries(s.status.conditions.map((c) => [c.type, c.status]));
    assertEquals(cond, { RuntimeReady: true, NetworkReady: false });
    const rc = await client.call<{ linux: { cgroupDriver: number } }>(
      "RuntimeService",
      "RuntimeConfig",
    );
    assert([0, 1].includes(rc.linux.cgroupDriver), "cgroup driver is SYSTEMD or CGROUPFS");
    const err = await assertRejects(() => client.call("RuntimeService", "CheckpointContainer"));
    assertEquals((err as unknown as grpc.ServiceError).code, grpc.status.UNIMPLEMENTED);
    assertStringIncludes(err.message, "RuntimeService.CheckpointContainer is not implemented");
  } finally {
    client.close();
    await t.daemon.stop();
  }
  await assertRejects(() => Deno.stat(t.socket), Deno.errors.NotFound);
  await Deno.remove(t.dir, { recursive: true });
});

Deno.test("NetworkReady follows the CNI config dir without a restart", async () => {
  const t = await tempDaemon(`plugin_dirs = ["${"/bin"}"]\n`);
  await t.daemon.start();
  const client = new CriTestClient(t.socket, loadSchema());
  const networkReady = async () => {
    const s = await client.call<{ status: { conditions: { type: string; status: boolean }[] } }>(
      "RuntimeService",
      "Status",
    );
    return s.status.conditions.find((c) => c.type === "NetworkReady")!.status;
  };
  try {
    assertEquals(await networkReady(), false);
    await Deno.writeTextFile(
      `${t.dir}/net.d/10-test.conflist`,
      JSON.stringify({ cniVersion: "1.0.0", name: "t", plugins: [{ type: "sh" }] }),
    );
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await networkReady();
    }
    assert(ready, "NetworkReady did not turn true after a config appeared");
  } finally {
    client.close();
    await t.daemon.stop();
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("a stale socket is replaced; a live one is refused", async () => {
  const t = await tempDaemon();
  await Deno.mkdir(`${t.dir}/sock`);
  // A process that bound the socket and died, as a crashed daemon leaves it.
  const bind = `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(t.socket)})`;
  await new Deno.Command("python3", { args: ["-c", bind] }).output();
  assert((await Deno.lstat(t.socket)).isSocket);
  await t.daemon.start();
  const second = await tempDaemon();
  const load = () => loadConfig({ configFile: `${t.dir}/crio.conf`, configDir: "/nonexistent" });
  const rival = new Daemon({
    loaded: await load(),
    load,
    log: new Logger({ sink: { write() {} } }),
  });
  try {
    await assertRejects(() => rival.start(), ConfigError, "another daemon is already serving");
    // The refused daemon left the live socket alone.
    const c = await Deno.connect({ transport: "unix", path: t.socket });
    c.close();
  } finally {
    await t.daemon.stop();
    await Deno.remove(t.dir, { recursive: true });
    await Deno.remove(second.dir, { recursive: true });
  }
});

Deno.test("a regular file at the socket path is never replaced", async () => {
  const t = await tempDaemon();
  await Deno.mkdir(`${t.dir}/sock`);
  await Deno.writeTextFile(t.socket, "precious");
  try {
    await assertRejects(() => t.daemon.start(), ConfigError, "is not a socket");
    assertEquals(await Deno.readTextFile(t.socket), "precious");
  } finally {
    await Deno.remove(t.dir, { recursive: true });
  }
});
