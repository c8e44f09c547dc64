import { assert, assertEquals } from "../testing/asserts.ts";
import { defaultConfig } from "../config/options.ts";
import { daemonPermissions } from "./permissions.ts";

function flag(flags: string[], name: string): string[] {
  const prefix = `--allow-${name}=`;
  const f = flags.find((x) => x.startsWith(prefix));
  return f ? f.slice(prefix.length).split(",") : [];
}

Deno.test("permissions are scoped to the configuration", () => {
  const config = defaultConfig();
  config.metrics.enable_metrics = true;
  config.metrics.metrics_port = 9123;
  config.api.listen = "/tmp/x/crio.sock";
  const flags = daemonPermissions({
    config,
    configFile: "/etc/crio/crio.conf",
    configDir: "/etc/crio/crio.conf.d",
    cacheDir: "/repo/.cache",
  });
  assert(!flags.includes("-A") && !flags.includes("--allow-all"));
  assertEquals(flag(flags, "net").sort(), ["127.0.0.1:9123", "unix:/tmp/x/crio.sock"]);
  const write = flag(flags, "write");
  assert(write.includes("/tmp/x"));
  assert(!write.includes("/"), "never the whole filesystem");
  assert(!write.includes("/etc/crio/crio.conf"), "configuration is read-only");
  assert(flag(flags, "read").includes("/etc/crio/crio.conf.d"));
});

Deno.test("metrics disabled: no TCP permission at all", () => {
  const flags = daemonPermissions({
    config: defaultConfig(),
    configFile: "/c",
    configDir: "/d",
    cacheDir: "/x",
  });
  assertEquals(flag(flags, "net"), ["unix:/var/run/crio/crio.sock"]);
});
