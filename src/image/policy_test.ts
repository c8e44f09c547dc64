import { assertEquals, assertRejects } from "../testing/asserts.ts";
import { ConfigError, InvalidArgumentError } from "../errors.ts";
import { loadPolicy, parsePolicy, requirementsFor, scopesFor } from "./policy.ts";
import { parseReference } from "./reference.ts";

const PEM = "-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----\n";

Deno.test("scopes go from the full reference to the host and its wildcard domains", () => {
  assertEquals(scopesFor(parseReference("reg.example.com:5000/a/b/c:1")), [
    "reg.example.com:5000/a/b/c:1",
    "reg.example.com:5000/a/b/c",
    "reg.example.com:5000/a/b",
    "reg.example.com:5000/a",
    "reg.example.com:5000",
    "*.example.com",
    "*.com",
  ]);
});

Deno.test('the most specific docker scope wins, then "", then default', async () => {
  const p = await parsePolicy(
    JSON.stringify({
      default: [{ type: "reject" }],
      transports: {
        docker: {
          "": [{ type: "insecureAcceptAnything" }],
          "r.io/team": [{ type: "sigstoreSigned", keyData: btoa(PEM) }],
          "r.io/team/app:dev": [{ type: "insecureAcceptAnything" }],
        },
      },
    }),
    "p.json",
  );
  const pick = (s: string) => requirementsFor(p, parseReference(s));
  assertEquals(pick("r.io/team/app:1").scope, "r.io/team");
  assertEquals(pick("r.io/team/app:1").reqs[0], {
    type: "sigstoreSigned",
    keys: [PEM],
    signedIdentity: { type: "matchRepoDigestOrExact" },
  });
  assertEquals(pick("r.io/team/app:dev").scope, "r.io/team/app:dev");
  assertEquals(pick("q.io/x:1").scope, 'transports.docker[""]');
  const bare = await parsePolicy('{"default":[{"type":"reject"}]}', "d.json");
  assertEquals(requirementsFor(bare, parseReference("q.io/x:1")).scope, "default");
});

Deno.test("malformed policies are refused with where and why", async () => {
  const bad: [string, string][] = [
    ["{}", "default: must be a non-empty list"],
    ['{"default":[]}', "non-empty list"],
    ['{"default":[{"type":"signedBy"}]}', '"signedBy" is not supported'],
    ['{"default":[{"type":"sigstoreSigned"}]}', "needs keyPath or keyData"],
    ['{"default":[{"type":"sigstoreSigned","keyPath":"/nonexistent/k.pub"}]}', "/nonexistent"],
    [
      '{"default":[{"type":"sigstoreSigned","keyData":"QQ==","signedIdentity":{"type":"remapIdentity"}}]}',
      "remapIdentity",
    ],
    ["not json", "x.json"],
  ];
  for (const [text, why] of bad) {
    await assertRejects(() => parsePolicy(text, "x.json"), ConfigError, why);
  }
});

Deno.test("policy file: namespace file, then configured, then system; checked namespace", async () => {
  const dir = await Deno.makeTempDir({ prefix: "policy-test-" });
  try {
    await Deno.writeTextFile(`${dir}/ns.json`, '{"default":[{"type":"reject"}]}');
    await Deno.writeTextFile(`${dir}/g.json`, '{"default":[{"type":"insecureAcceptAnything"}]}');
    const base = { path: `${dir}/g.json`, dir };
    assertEquals((await loadPolicy({ ...base, namespace: "ns" })).source, `${dir}/ns.json`);
    assertEquals((await loadPolicy({ ...base, namespace: "other" })).source, `${dir}/g.json`);
    assertEquals((await loadPolicy(base)).source, `${dir}/g.json`);
    await assertRejects(() => loadPolicy({ ...base, namespace: "../g" }), InvalidArgumentError);
    await assertRejects(() => loadPolicy({ path: `${dir}/missing.json`, dir }), ConfigError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
