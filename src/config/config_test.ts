import { assert, assertEquals, assertRejects, assertStringIncludes } from "../testing/asserts.ts";
import { ConfigError } from "../errors.ts";
import { loadConfig, type LoadOptions } from "./load.ts";
import { parseArgs } from "./flags.ts";
import { renderConfig } from "./render.ts";

/** An in-memory /etc/crio for the loader's file seams. */
function fakeFs(files: Record<string, string>): Pick<LoadOptions, "readFile" | "readDir"> {
  return {
    readFile: (p) =>
      p in files ? Promise.resolve(files[p]) : Promise.reject(new Deno.errors.NotFound(p)),
    readDir: (d) => {
      const prefix = d.replace(/\/$/, "") + "/";
      const names = Object.keys(files).filter((f) => f.startsWith(prefix)).map((f) =>
        f.slice(prefix.length)
      );
      return names.length ? Promise.resolve(names) : Promise.reject(new Deno.errors.NotFound(d));
    },
  };
}

Deno.test("defaults apply when no file exists", async () => {
  const { config, sources } = await loadConfig(fakeFs({}));
  assertEquals(sources, []);
  assertEquals(config.api.listen, "/var/run/crio/crio.sock");
  assertEquals(config.runtime.default_runtime, "crun");
  assertEquals(config.metrics.metrics_port, 9090);
  assert(config.runtime.runtimes.runc && config.runtime.runtimes.crun);
});

Deno.test("drop-ins apply in lexical order after the main file, flags last", async () => {
  const fs = fakeFs({
    "/etc/crio/crio.conf": '[crio.runtime]\nlog_level = "debug"\npids_limit = 10\n',
    "/etc/crio/crio.conf.d/20-b.conf": '[crio.runtime]\nlog_level = "error"\n',
    "/etc/crio/crio.conf.d/10-a.conf": '[crio.runtime]\nlog_level = "warn"\npids_limit = 20\n',
  });
  const args = parseArgs(["--metrics-port", "9999", "--cni-plugin-dir=/a", "--cni-plugin-dir=/b"]);
  const { config, sources } = await loadConfig({ ...fs, overrides: args.overrides });
  assertEquals(sources, [
    "/etc/crio/crio.conf",
    "/etc/crio/crio.conf.d/10-a.conf",
    "/etc/crio/crio.conf.d/20-b.conf",
  ]);
  assertEquals(config.runtime.log_level, "error");
  assertEquals(config.runtime.pids_limit, 20);
  assertEquals(config.metrics.metrics_port, 9999);
  assertEquals(config.network.plugin_dirs, ["/a", "/b"]);
});

Deno.test("a bad value names file, key, value and what is allowed", async () => {
  const fs = fakeFs({
    "/etc/crio/crio.conf.d/50-bad.conf": '[crio.runtime]\ncgroup_manager = "x"\n',
  });
  const err = await assertRejects(() => loadConfig(fs), ConfigError);
  assertStringIncludes(err.message, "/etc/crio/crio.conf.d/50-bad.conf");
  assertStringIncludes(err.message, "crio.runtime.cgroup_manager");
  assertStringIncludes(err.message, '"x"');
  assertStringIncludes(err.message, '"systemd", "cgroupfs"');
});

Deno.test("table-driven refusals", async (t) => {
  const cases: [string, string][] = [
    ["[crio.api]\nlisten = 5\n", "crio.api.listen"],
    ['[crio.api]\nlisten = "relative.sock"\n', "absolute path"],
    ["[crio.metrics]\nmetrics_port = 70000\n", "<= 65535"],
    ['[crio.runtime]\nctr_stop_timeout = "30"\n', "an integer"],
    ['[crio.image]\npull_progress_timeout = "soon"\n', "duration"],
    ['[crio.api]\nstream_idle_timeout = "4 hours"\n', "crio.api.stream_idle_timeout"],
    ['[crio.runtime]\ndefault_runtime = "kata"\n', "names no runtime handler"],
    ['[crio.runtime.runtimes."../x"]\n', "handler name is not valid"],
    ['[crio.runtime.runtimes.foo]\nruntime_type = "wasm"\n', '"oci", "vm", "pod"'],
    ["[crio\n", "not valid TOML"],
  ];
  for (const [text, want] of cases) {
    await t.step(want, async () => {
      const fs = fakeFs({ "/etc/crio/crio.conf": text });
      const err = await assertRejects(() => loadConfig(fs), ConfigError);
      assertStringIncludes(err.message, want);
      assertStringIncludes(err.message, "/etc/crio/crio.conf");
    });
  }
});

Deno.test("unknown keys warn and name the file", async () => {
  const fs = fakeFs({
    "/etc/crio/crio.conf": "[crio.api]\nlisten_bogus = 1\n[crio.runtime.runtimes.kata]\nfoo = 1\n",
  });
  const { warnings, config } = await loadConfig(fs);
  assertEquals(warnings.length, 2);
  assertStringIncludes(warnings[0], "/etc/crio/crio.conf: unknown key crio.api.listen_bogus");
  assertStringIncludes(warnings[1], "crio.runtime.runtimes.kata.foo");
  assertEquals(config.runtime.runtimes.kata.runtime_type, "oci");
});

Deno.test("an explicit --config that is missing is an error", async () => {
  await assertRejects(
    () => loadConfig({ ...fakeFs({}), configFile: "/nope.conf" }),
    ConfigError,
    "/nope.conf: configuration file does not exist",
  );
});

Deno.test("crio config output round-trips", async () => {
  const fs = fakeFs({
    "/etc/crio/crio.conf.d/01.conf": [
      "[crio.runtime]",
      'default_env = ["A=b\\"c", "NL=x\\ny"]',
      "[crio.runtime.runtimes.kata]",
      'runtime_type = "vm"',
      'runtime_config_path = "/etc/kata.toml"',
    ].join("\n"),
  });
  const first = renderConfig((await loadConfig(fs)).config);
  const second = renderConfig(
    (await loadConfig(fakeFs({ "/etc/crio/crio.conf": first }))).config,
  );
  assertEquals(second, first);
  assertStringIncludes(first, "[crio.runtime.runtimes.kata]");
});

Deno.test("flags: unknown flag, bad bool, short names", () => {
  let threw = false;
  try {
    parseArgs(["--no-such-flag"]);
  } catch (err) {
    threw = err instanceof ConfigError && err.message.includes("--no-such-flag");
  }
  assert(threw);
  const a = parseArgs(["-c", "/x.conf", "-l", "debug", "config", "--default"]);
  assertEquals(a.configFile, "/x.conf");
  assertEquals(a.command, "config");
  assertEquals(a.commandArgs, ["--default"]);
  assertEquals(a.overrides[0].value, "debug");
});
