import { assertEquals, assertThrows } from "../testing/asserts.ts";
import { ConfigError, FailedPreconditionError, InvalidArgumentError } from "../errors.ts";
import { formatRef, parseReference } from "./reference.ts";
import {
  emptyRegistriesConf,
  loadRegistriesConf,
  mergeFile,
  registriesConfPaths,
} from "./registries_conf.ts";
import { candidates, pullSources } from "./resolve.ts";

const D = "sha256:" + "12".repeat(32);

function conf(text: string) {
  const c = emptyRegistriesConf();
  mergeFile(c, text, "test.conf");
  return c;
}

const MAIN = `
unqualified-search-registries = ["quay.io", "docker.io"]
[aliases]
"pause" = "registry.k8s.io/pause"
[[registry]]
prefix = "registry.k8s.io"
location = "127.0.0.1:5000"
insecure = true
[[registry]]
prefix = "example.com/team"
location = "internal.example.com/mirror/team"
[[registry.mirror]]
location = "m1.local:5000"
insecure = true
[[registry.mirror]]
location = "m2.local"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "m3.local"
pull-from-mirror = "tag-only"
[[registry]]
location = "evil.io"
blocked = true
[[registry]]
prefix = "*.wild.io"
insecure = true
`;

Deno.test("short names: alias, enforcing ambiguity, permissive search order", () => {
  const c = conf(MAIN);
  const alias = candidates(parseReference("pause:3.9"), { conf: c, shortNameMode: "enforcing" });
  assertEquals(alias.map(formatRef), ["registry.k8s.io/pause:3.9"]);
  assertThrows(
    () => candidates(parseReference("busybox"), { conf: c, shortNameMode: "enforcing" }),
    InvalidArgumentError,
    "ambiguous",
  );
  const all = candidates(parseReference("busybox"), { conf: c, shortNameMode: "permissive" });
  assertEquals(all.map(formatRef), ["quay.io/busybox:latest", "docker.io/library/busybox:latest"]);
  const none = emptyRegistriesConf();
  assertThrows(
    () => candidates(parseReference("busybox"), { conf: none, shortNameMode: "disabled" }),
    InvalidArgumentError,
    "no unqualified-search-registries",
  );
  const qualified = parseReference("docker.io/busybox");
  assertEquals(candidates(qualified, { conf: c, shortNameMode: "enforcing" }), [qualified]);
});

Deno.test("registry tables: location, insecure, blocked, wildcard, longest prefix", () => {
  const c = conf(MAIN);
  const s = pullSources(c, parseReference("registry.k8s.io/pause:3.9"));
  assertEquals(s.map((x) => [formatRef(x.ref), x.insecure]), [["127.0.0.1:5000/pause:3.9", true]]);
  assertThrows(
    () => pullSources(c, parseReference("evil.io/x")),
    FailedPreconditionError,
    "blocked",
  );
  assertEquals(pullSources(c, parseReference("a.wild.io/x"))[0].insecure, true);
  assertEquals(pullSources(c, parseReference("quay.io/x"))[0].insecure, false);
  // example.com/teamx does not match prefix example.com/team.
  assertEquals(
    formatRef(pullSources(c, parseReference("example.com/teamx"))[0].ref),
    "example.com/teamx:latest",
  );
});

Deno.test("mirrors honour pull-from-mirror", () => {
  const c = conf(MAIN);
  const byTag = pullSources(c, parseReference("example.com/team/app:v1"));
  assertEquals(byTag.map((x) => formatRef(x.ref)), [
    "m1.local:5000/app:v1",
    "m3.local/app:v1",
    "internal.example.com/mirror/team/app:v1",
  ]);
  const byDigest = pullSources(c, parseReference(`example.com/team/app@${D}`));
  assertEquals(byDigest.map((x) => x.ref.domain), [
    "m1.local:5000",
    "m2.local",
    "internal.example.com",
  ]);
  assertEquals(byDigest.map((x) => x.mirror), [true, true, false]);
});

Deno.test("drop-ins override in lexical order; explicit file disables system drop-ins", async () => {
  const files: Record<string, string> = {
    "/c/main.conf": MAIN,
    "/c/d/10-a.conf": `unqualified-search-registries = ["one.io"]\n[aliases]\n"x" = "one.io/x"`,
    "/c/d/20-b.conf": `[[registry]]\nprefix = "registry.k8s.io"\nblocked = true`,
    "/c/d/ignored.txt": "nonsense",
  };
  const fs = {
    readTextFile: (p: string) =>
      p in files ? Promise.resolve(files[p]) : Promise.reject(new Deno.errors.NotFound(p)),
    async *readDir(p: string) {
      for (const f of Object.keys(files)) {
        if (f.startsWith(p + "/")) yield { name: f.slice(p.length + 1), isFile: true };
      }
    },
  };
  const c = await loadRegistriesConf({ file: "/c/main.conf", dir: "/c/d" }, fs);
  assertEquals(c.unqualifiedSearch, ["one.io"]);
  assertEquals(c.aliases.x, "one.io/x");
  assertThrows(() => pullSources(c, parseReference("registry.k8s.io/pause")), Error, "blocked");
  assertEquals(c.sources, ["/c/main.conf", "/c/d/10-a.conf", "/c/d/20-b.conf"]);
  const env = (m: Record<string, string>) => (k: string) => m[k];
  assertEquals(registriesConfPaths(env({ CONTAINERS_REGISTRIES_CONF: "/x.conf" })), {
    file: "/x.conf",
    dir: undefined,
  });
  assertEquals(registriesConfPaths(env({})).dir, "/etc/containers/registries.conf.d");
});

Deno.test("malformed registries.conf is a ConfigError naming the file", () => {
  assertThrows(() => conf("[[registry]]\nprefix = 3"), ConfigError, "test.conf");
  assertThrows(() => conf("[registries.search]\nregistries = []"), ConfigError, "version 1");
  assertThrows(
    () =>
      conf(
        `[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "b"\npull-from-mirror = "x"`,
      ),
    ConfigError,
    "pull-from-mirror",
  );
});
