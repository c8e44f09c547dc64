import { assertEquals, assertStringIncludes, assertThrows } from "../testing/asserts.ts";
import { ConfigError } from "../errors.ts";
import { defaultRuntimeHandler } from "../config/options.ts";
import { lookPath, resolveHandlers } from "./runtime_handlers.ts";

const exe = (present: string[]) => (p: string) => present.includes(p);

Deno.test("handlers resolve through runtime_path or $PATH", () => {
  const runtimes = {
    crun: defaultRuntimeHandler("crun"),
    runc: defaultRuntimeHandler("runc"),
    kata: { ...defaultRuntimeHandler("kata"), runtime_path: "/opt/kata/shim", runtime_type: "vm" },
  };
  const r = resolveHandlers(runtimes, {
    defaultRuntime: "crun",
    path: "/usr/bin",
    isExecutable: exe(["/usr/bin/crun", "/usr/sbin/runc"]),
  });
  assertEquals(r.handlers.get("crun")?.path, "/usr/bin/crun");
  assertEquals(r.handlers.get("runc")?.path, "/usr/sbin/runc");
  assertEquals(r.handlers.has("kata"), false);
  assertEquals(r.warnings.length, 1);
  assertStringIncludes(r.warnings[0], '"kata"');
});

Deno.test("a missing default handler stops start-up", () => {
  assertThrows(
    () =>
      resolveHandlers({ crun: defaultRuntimeHandler("crun") }, {
        defaultRuntime: "crun",
        path: "/x",
        isExecutable: exe([]),
      }),
    ConfigError,
    "default_runtime",
  );
});

Deno.test("lookPath takes absolute names as they are", () => {
  assertEquals(lookPath("/a/b", { isExecutable: exe(["/a/b"]) }), "/a/b");
  assertEquals(lookPath("/a/c", { isExecutable: exe(["/a/b"]) }), undefined);
});
