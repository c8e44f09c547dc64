import { assertEquals } from "../testing/asserts.ts";
import { defaultConfig } from "../config/options.ts";
import { ConfigError } from "../errors.ts";
import { Logger } from "../log.ts";
import { applyReloadable, reload } from "./reload.ts";

Deno.test("reloadable keys apply; others are reported as needing a restart", () => {
  const cur = defaultConfig();
  const next = defaultConfig();
  next.runtime.log_level = "debug";
  next.image.pinned_images = ["a"];
  next.api.listen = "/other.sock";
  const out = applyReloadable(cur, next);
  assertEquals(out.applied.sort(), ["crio.image.pinned_images", "crio.runtime.log_level"]);
  assertEquals(out.needRestart, ["crio.api.listen"]);
  assertEquals(cur.runtime.log_level, "debug");
  assertEquals(cur.api.listen, "/var/run/crio/crio.sock");
});

Deno.test("a failing reload keeps the running configuration", async () => {
  const lines: string[] = [];
  const log = new Logger({ sink: { write: (l) => lines.push(l) } });
  const cur = defaultConfig();
  const out = await reload(cur, {
    log,
    load: () => Promise.reject(new ConfigError("/etc/crio/crio.conf: not valid TOML")),
  });
  assertEquals(out, undefined);
  assertEquals(cur.runtime.log_level, "info");
  assertEquals(lines.length, 1);
  assertEquals(lines[0].includes("not valid TOML"), true);
});
