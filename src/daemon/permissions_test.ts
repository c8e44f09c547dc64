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
  // Registries are any host the kubelet names: net is open, metadata endpoints denied.
  assert(flags.includes("--allow-net"));
  assert(flags.some((f) => f.startsWith("--deny-net=") && f.includes("169.254.169.254")));
  assertEquals(flag(flags, "ffi").length, 2, "FFI only for libc and libz");
  assert(flag(flags, "ffi").every((f) => /\/lib(c|z)\.so\.[0-9]+$/.test(f)));
  const write = flag(flags, "write");
  assert(write.includes("/tmp/x"));
  assert(!write.includes("/"), "never the whole filesystem");
  assert(!write.includes("/etc/crio/crio.conf"), "configuration is read-only");
  assert(flag(flags, "read").includes("/etc/crio/crio.conf.d"));
});

Deno.test("the registries.conf named by CONTAINERS_REGISTRIES_CONF is readable", () => {
  const flags = daemonPermissions({
    config: defaultConfig(),
    configFile: "/c",
    configDir: "/d",
    cacheDir: "/x",
    env: (k) => k === "CONTAINERS_REGISTRIES_CONF" ? "/tmp/h/registries.conf" : undefined,
  });
  assert(flag(flags, "read").includes("/tmp/h/registries.conf"));
});
