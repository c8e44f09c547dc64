import { assert, assertEquals, assertThrows } from "../src/testing/asserts.ts";
import { bundleFlags } from "./list_floor.ts";
import { newestProfile } from "./profile.ts";
import { decodeVlq, resolveProfile, SourceMapIndex } from "./source_map.ts";

Deno.test("decodeVlq reads signed base64 VLQ fields, across continuation digits", () => {
  assertEquals(decodeVlq("AAAA"), [0, 0, 0, 0]);
  assertEquals(decodeVlq("gB"), [16]);
  assertEquals(decodeVlq("DAAD"), [-1, 0, 0, -1]);
  assertThrows(() => decodeVlq("g"), Error, "ends inside a number");
  assertThrows(() => decodeVlq("A!"), Error, "'!'");
});

/** An index over one source file's map of one generated line. */
function oneLine(o: { source: string; names: string[]; mappings: string; code: string }) {
  const map = { version: 3, sources: [o.source], names: o.names, mappings: o.mappings };
  return new SourceMapIndex(map, { mapUrl: "file:///b/main.js.map", code: o.code });
}

Deno.test("SourceMapIndex names a frame only by the segment that holds its minified name", () => {
  // Generated: `function a(b){return b}` from `function square(value) {` on line 3 of x.ts.
  const idx = oneLine({
    source: "x.ts",
    names: ["square", "value"],
    mappings: "AAEA,SAASA,EAAOC",
    code: "function a(b){return b}",
  });
  assertEquals(idx.lookup(0, 0, "a"), {
    url: "file:///b/x.ts",
    line: 2,
    column: 0,
    name: "square",
  });
  // A frame V8 names otherwise (an arrow bound to another name) gets no name from a parameter.
  assertEquals(idx.lookup(0, 0, "c")?.name, undefined);
  assertEquals(idx.lookup(1, 0, "a"), undefined);
});

Deno.test({
  name: "a minified bundle's CPU profile resolves to the source's file and function names",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "source-map-test-" });
    try {
      await Deno.writeTextFile(
        `${dir}/fixture.ts`,
        [
          "function spinForTheProfiler(ms: number): number {",
          "  let n = 0;",
          "  const end = performance.now() + ms;",
          "  while (performance.now() < end) n += Math.sqrt(n + 1);",
          "  return n;",
          "}",
          "console.log(spinForTheProfiler(300) > 0);",
        ].join("\n"),
      );
      const script = await Deno.readTextFile(new URL("../bin/bundle", import.meta.url));
      const run = (args: string[]) =>
        new Deno.Command(Deno.execPath(), { args, cwd: dir, stdout: "piped" }).output();
      const built = await run(["bundle", ...bundleFlags(script), "fixture.ts", "-o", "out.js"]);
      assert(built.success, new TextDecoder().decode(built.stderr));
      const code = await Deno.readTextFile(`${dir}/out.js`);
      assert(!code.includes("spinForTheProfiler"), "the bundle was not minified");
      const ran = await run(["run", "--cpu-prof", `--cpu-prof-dir=${dir}`, "out.js"]);
      assert(ran.success, new TextDecoder().decode(ran.stderr));
      const path = await newestProfile(dir);
      assert(path, "no profile written");
      const profile = await resolveProfile(JSON.parse(await Deno.readTextFile(path)));
      const frames = profile.nodes.map((n) => n.callFrame);
      const spin = frames.find((f) => f.functionName === "spinForTheProfiler");
      assert(spin, `no resolved frame: ${frames.map((f) => f.functionName).join(", ")}`);
      assertEquals(spin.url, new URL(`file://${dir}/fixture.ts`).href);
      assertEquals(spin.lineNumber, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("SourceMapIndex names an arrow function by the binding before it", () => {
  // Generated: `const q=(b)=>b` from `const readAll = (value) =>` on line 1 of y.ts.
  const idx = oneLine({
    source: "y.ts",
    names: ["readAll", "value"],
    mappings: "AAAA,MAAMA,EAAU,CAAEC",
    code: "const q=(b)=>b",
  });
  assertEquals(idx.lookup(0, 8, "q")?.name, "readAll");
  assertEquals(idx.lookup(0, 8, "b")?.name, "value");
});

Deno.test("SourceMapIndex names a constructor by its class's unique minified name", () => {
  // Generated: `class K{constructor(b){}}` from `class NewFile {` / `  constructor(path) {`.
  const idx = oneLine({
    source: "z.ts",
    names: ["NewFile", "path"],
    mappings: "AAAA,MAAMA,EACJ,YAAYC",
    code: "class K{constructor(b){}}",
  });
  assertEquals(idx.lookup(0, 8, "K"), {
    url: "file:///b/z.ts",
    line: 1,
    column: 2,
    name: "NewFile",
  });
});
