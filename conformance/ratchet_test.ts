import { assertEquals, assertThrows } from "../src/testing/asserts.ts";
import { parseJunit } from "./junit.ts";
import { judge, parseExpected } from "./ratchet.ts";

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="CRI validation" tests="4">
<testcase name="[It] [k8s.io] Runtime info runtime should return version info [Conformance]" classname="CRI" status="passed" time="0.01"></testcase>
<testcase name="[It] [k8s.io] PodSandbox runtime should support running PodSandbox [Conformance]" status="failed" time="1.5"><failure message="rpc error: code = Unimplemented &amp; more" type="failed">trace</failure></testcase>
<testcase name="[It] [k8s.io] Image Manager public image &quot;x&quot;" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
<testcase name="[It] [k8s.io] Container listed but passes" status="passed" time="0.2"/>
</testsuite></testsuites>`;

Deno.test("junit: outcomes, names without the node type, entities", () => {
  const r = parseJunit(XML);
  assertEquals(r.map((x) => x.outcome), ["passed", "failed", "skipped", "passed"]);
  assertEquals(r[0].name, "[k8s.io] Runtime info runtime should return version info [Conformance]");
  assertEquals(r[1].message, "rpc error: code = Unimplemented & more");
  assertEquals(r[2].name, '[k8s.io] Image Manager public image "x"');
});

Deno.test("ratchet: unexpected failures and fixed entries both fail the run", () => {
  const results = parseJunit(XML);
  const expected = parseExpected([
    "# comment",
    "[k8s.io] PodSandbox runtime should support running PodSandbox [Conformance] :: no sandboxes yet",
    "[runtime=crun] [k8s.io] Container listed but passes :: crun only",
  ].join("\n"));
  const runc = judge(results, expected, { runtime: "runc", k8s: "1.37" });
  assertEquals(runc.ok, true);
  assertEquals(runc.expected.length, 1);
  const crun = judge(results, expected, { runtime: "crun", k8s: "1.37" });
  assertEquals(crun.ok, false);
  assertEquals(crun.fixed.map((e) => e.line), [3]);
  const none = judge(results, [], { runtime: "runc", k8s: "1.37" });
  assertEquals(none.unexpected.length, 1);
});

Deno.test("ratchet: entries need a reason", () => {
  assertThrows(() => parseExpected("some test"), Error, "missing");
  assertThrows(() => parseExpected("some test ::  "), Error, "empty reason");
});

Deno.test("ratchet: a [flaky] entry breaks the run neither when it fails nor when it passes", () => {
  const results = parseJunit(XML);
  const expected = parseExpected(
    "[flaky] [k8s.io] Container listed but passes :: races with the client deadline",
  );
  assertEquals(expected[0].flaky, true);
  assertEquals(judge(results.slice(3), expected, { runtime: "runc", k8s: "1.37" }).ok, true);
});
