import { assertEquals, assertThrows } from "../testing/asserts.ts";
import { InvalidArgumentError } from "../errors.ts";
import { chainIds, digestOf, parseDigest } from "./digest.ts";
import { formatRef, parseLookup, parseReference } from "./reference.ts";

const D = "sha256:" + "ab".repeat(32);

Deno.test("references normalize like CRI-O", () => {
  const table: [string, string, boolean][] = [
    ["busybox", "docker.io/library/busybox:latest", true],
    ["busybox:1.36", "docker.io/library/busybox:1.36", true],
    ["library/busybox", "docker.io/library/busybox:latest", true],
    ["foo/bar", "docker.io/foo/bar:latest", true],
    ["docker.io/busybox", "docker.io/library/busybox:latest", false],
    ["index.docker.io/library/busybox", "docker.io/library/busybox:latest", false],
    ["registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9", false],
    ["localhost/app", "localhost/app:latest", false],
    ["127.0.0.1:5000/a/b:v1", "127.0.0.1:5000/a/b:v1", false],
    [`gcr.io/x/y@${D}`, `gcr.io/x/y@${D}`, false],
    [`gcr.io/x/y:t@${D}`, `gcr.io/x/y:t@${D}`, false],
    ["localhost:5000/a_b__c-d.e", "localhost:5000/a_b__c-d.e:latest", false],
  ];
  for (const [input, want, short] of table) {
    const r = parseReference(input);
    assertEquals(formatRef(r), want, input);
    assertEquals(r.short, short, input);
  }
});

Deno.test("bad references are refused with the reason", () => {
  const table: [string, string][] = [
    ["", "empty"],
    ["Busybox", "lowercase"],
    ["gcr.io/x/Y", "lowercase"],
    ["gcr.io/x/y:bad tag", "bad tag"],
    ["gcr.io/x/y@sha256:../x", "lowercase hex"],
    ["gcr.io/x/y@md5:abc", "unsupported algorithm"],
    ["gcr.io//y", "bad path component"],
    ["gcr.io/x/-y", "bad path component"],
  ];
  for (const [input, why] of table) assertThrows(() => parseReference(input), Error, why);
});

Deno.test("digests are validated before use", () => {
  parseDigest(D);
  parseDigest("sha512:" + "0".repeat(128));
  for (
    const bad of [
      "sha256:../x",
      "sha256:" + "AB".repeat(32),
      "sha256:abc",
      "md5:" + "0".repeat(32),
      "sha256:" + "0".repeat(63) + "/",
      "",
      "sha256",
    ]
  ) {
    assertThrows(() => parseDigest(bad), InvalidArgumentError);
  }
});

Deno.test("lookups: ID, sha256:ID, or a reference", () => {
  const id = "c".repeat(64);
  assertEquals(parseLookup(id), { kind: "id", id });
  assertEquals(parseLookup(`sha256:${id}`), { kind: "id", id });
  assertEquals(parseLookup("busybox").kind, "ref");
});

Deno.test("chain IDs follow the OCI image spec", () => {
  const a = digestOf("a"), b = digestOf("b");
  assertEquals(chainIds([a, b]), [a, digestOf(`${a} ${b}`)]);
});
