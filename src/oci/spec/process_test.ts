import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { DEFAULT_PATH, mergeEnv, resolveArgs, resolveCwd } from "./process.ts";
import type { ImageConfig } from "./types.ts";

const te = new TextEncoder();

Deno.test("resolveArgs() merges entrypoint/cmd with command/args like Kubernetes", () => {
  const image: ImageConfig = { Entrypoint: ["/ep"], Cmd: ["c1", "c2"] };
  const cases: [string, ImageConfig, { command?: string[]; args?: string[] }, string[]][] = [
    ["image only", image, {}, ["/ep", "c1", "c2"]],
    ["args replace cmd", image, { args: ["a"] }, ["/ep", "a"]],
    ["command replaces both", image, { command: ["/cmd"] }, ["/cmd"]],
    ["command and args", image, { command: ["/cmd", "x"], args: ["a"] }, ["/cmd", "x", "a"]],
    ["cmd alone", { Cmd: ["/bin/sh"] }, {}, ["/bin/sh"]],
    ["null entrypoint", { Entrypoint: null, Cmd: ["/c"] }, {}, ["/c"]],
  ];
  for (const [name, img, cri, want] of cases) assertEquals(resolveArgs(img, cri), want, name);
  assertThrows(() => resolveArgs({}, {}), InvalidArgumentError, "no command");
});

Deno.test("mergeEnv() layers defaults, default_env, image and CRI in that order", () => {
  const env = mergeEnv({
    image: { Env: ["PATH=/img", "A=image", "NOEQUALS"] },
    defaultEnv: ["A=default", "B=default"],
    cri: [{ key: "A", value: te.encode("cri") }, {
      key: "C",
      value: "str" as unknown as Uint8Array,
    }],
    tty: true,
    hostname: "pod-host",
  });
  assertEquals(env, [
    "PATH=/img",
    "TERM=xterm",
    "HOSTNAME=pod-host",
    "A=cri",
    "B=default",
    "C=str",
  ]);
  assertEquals(mergeEnv({ image: {}, defaultEnv: [] }), [DEFAULT_PATH]);
});

Deno.test("mergeEnv() refuses newlines in values and bad names, naming the variable", () => {
  const cases: [Parameters<typeof mergeEnv>[0], string][] = [
    [
      { image: {}, defaultEnv: [], cri: [{ key: "HOME", value: te.encode("/x\nroot::0:0::/:") }] },
      "HOME",
    ],
    [{ image: { Env: ["CERT=a\r\nb"] }, defaultEnv: [] }, "CERT"],
    [{ image: {}, defaultEnv: ["BAD\nNAME=1"] }, "name"],
    [{ image: {}, defaultEnv: [], cri: [{ key: "Z", value: te.encode("a\0b") }] }, "NUL"],
  ];
  for (const [input, msg] of cases) assertThrows(() => mergeEnv(input), InvalidArgumentError, msg);
  // The two characters backslash and n are just text.
  assertEquals(
    mergeEnv({ image: {}, defaultEnv: [], cri: [{ key: "HOME", value: te.encode("/x\\n") }] })[1],
    "HOME=/x\\n",
  );
});

Deno.test("resolveCwd() prefers the CRI dir and refuses fd paths", () => {
  assertEquals(resolveCwd({}, undefined), "/");
  assertEquals(resolveCwd({ WorkingDir: "/app" }, ""), "/app");
  assertEquals(resolveCwd({ WorkingDir: "/app" }, "/work"), "/work");
  for (const bad of ["rel", "/proc/self/fd/7", "/proc/1/fd/3", "/proc/thread-self/fd"]) {
    assertThrows(() => resolveCwd({}, bad), InvalidArgumentError);
  }
});
