import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { registryConfig, startRegistry } from "./registry.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function registryDirs(): Promise<string[]> {
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  const dirs: string[] = [];
  for await (const e of Deno.readDir(tmp)) {
    if (e.name.startsWith("critest-registry-")) dirs.push(`${tmp}/${e.name}`);
  }
  return dirs;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

Deno.test("config binds loopback, enables delete, stores under the given dir", () => {
  const yaml = registryConfig("/tmp/x y/data", "127.0.0.1:5000");
  assert(yaml.includes('rootdirectory: "/tmp/x y/data"'));
  assert(yaml.includes('addr: "127.0.0.1:5000"'));
  assert(/delete:\n {4}enabled: true/.test(yaml));
});

Deno.test("registry answers /v2/ and stop() ends it and cleans up", async () => {
  const before = await registryDirs();
  const registry = await startRegistry();
  let stopped = false;
  try {
    assert(/^127\.0\.0\.1:\d+$/.test(registry.host), registry.host);
    assertEquals(registry.url, `http://${registry.host}`);
    const res = await fetch(`${registry.url}/v2/`);
    await res.body?.cancel();
    assertEquals(res.status, 200);

    assert(registry.pid > 0);
    const dirs = (await registryDirs()).filter((d) => !before.includes(d));
    assertEquals(dirs.length, 1, `expected one new registry dir, got ${dirs}`);
    assert(await exists(`${dirs[0]}/config.yml`));

    await registry.stop();
    stopped = true;
    assertEquals(await answers(`${registry.url}/v2/`), false, "registry must be gone");
    assertEquals(await exists(dirs[0]), false, "temp dir must be removed");
    await registry.stop(); // idempotent
  } finally {
    if (!stopped) await registry.stop();
  }
});

Deno.test("a registry binary that never answers is reported and cleaned up", async () => {
  let error: Error | undefined;
  try {
    await startRegistry({ binary: "/bin/false", attempts: 1, readyTimeoutMs: 2000 });
  } catch (err) {
    error = err as Error;
  }
  assert(error?.message.includes("did not start"), String(error));
});

Deno.test("config carries htpasswd or token auth and TLS when asked", () => {
  const yaml = registryConfig("/d", "127.0.0.1:5000", {
    auth: { htpasswd: { realm: "r", path: "/h" } },
    tls: { certificate: "/c.crt", key: "/c.key" },
  });
  assert(yaml.includes('auth:\n  htpasswd:\n    realm: "r"\n    path: "/h"'), yaml);
  assert(yaml.includes('  tls:\n    certificate: "/c.crt"\n    key: "/c.key"'), yaml);
  const token = registryConfig("/d", "127.0.0.1:5000", {
    auth: { token: { realm: "https://t/token", service: "s", issuer: "i", rootcertbundle: "/b" } },
  });
  assert(token.includes('  token:\n    realm: "https://t/token"\n    service: "s"'), token);
});
