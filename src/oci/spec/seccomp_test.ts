import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { SecurityProfile_ProfileType as T } from "../../cri/gen/api.ts";
import { parseSeccompProfile, resolveSeccomp, seccompChoice, seccompRef } from "./seccomp.ts";
import { defaultSeccompProfile } from "./seccomp_default.ts";
import type { OciSeccomp } from "./types.ts";

Deno.test("seccompChoice() maps the CRI fields", () => {
  const cases: [Parameters<typeof seccompChoice>[0], string][] = [
    [{}, "Unconfined"],
    [{ seccomp: {} }, "RuntimeDefault"],
    [{ seccomp: { profileType: T.Unconfined } }, "Unconfined"],
    [{ seccomp: { profileType: T.Localhost, localhostRef: "/p.json" } }, "/p.json"],
    [{ seccomp: { profileType: T.RuntimeDefault }, privileged: true }, "Unconfined"],
    [{ seccompProfilePath: "runtime/default" }, "RuntimeDefault"],
    [{ seccompProfilePath: "localhost//q.json" }, "/q.json"],
  ];
  for (const [sc, want] of cases) assertEquals(seccompRef(seccompChoice(sc)), want);
  assertThrows(
    () => seccompChoice({ seccomp: { profileType: T.Localhost, localhostRef: "rel.json" } }),
    InvalidArgumentError,
    "absolute",
  );
});

function allowed(p: OciSeccomp, name: string): boolean {
  return p.syscalls!.some((r) =>
    r.action === "SCMP_ACT_ALLOW" && !r.args && r.names.includes(name)
  );
}

Deno.test("the built-in profile gates syscalls by capability", () => {
  const plain = defaultSeccompProfile({ capabilities: ["CAP_CHOWN"], arch: "x86_64" });
  assertEquals([plain.defaultAction, plain.defaultErrnoRet], ["SCMP_ACT_ERRNO", 38]);
  assertEquals(plain.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  for (const n of ["read", "execve", "arch_prctl", "ptrace"]) assert(allowed(plain, n), n);
  for (const n of ["mount", "sethostname", "reboot", "keyctl", "unshare"]) {
    assert(!allowed(plain, n), n);
  }
  const eperm = plain.syscalls!.find((r) => r.errnoRet === 1)!;
  assert(eperm.names.includes("sethostname") && eperm.names.includes("keyctl"));
  const clone = plain.syscalls!.find((r) => r.names[0] === "clone")!;
  assertEquals(clone.args?.[0].op, "SCMP_CMP_MASKED_EQ");

  const admin = defaultSeccompProfile({ capabilities: ["CAP_SYS_ADMIN"], arch: "aarch64" });
  for (const n of ["mount", "sethostname", "unshare", "clone3", "set_tls"]) {
    assert(allowed(admin, n), n);
  }
  assert(!admin.syscalls!.some((r) => r.names.includes("clone3") && r.action !== "SCMP_ACT_ALLOW"));
  // No name is both allowed and denied.
  const deny = new Set(
    admin.syscalls!.filter((r) => r.action !== "SCMP_ACT_ALLOW").flatMap((r) => r.names),
  );
  assert(!admin.syscalls![0].names.some((n) => deny.has(n)));
});

Deno.test("parseSeccompProfile() converts the Docker format", () => {
  const text = JSON.stringify({
    defaultAction: "SCMP_ACT_ALLOW",
    archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }, {
      architecture: "SCMP_ARCH_AARCH64",
    }],
    syscalls: [
      { names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO" },
      { name: "sethostname", action: "SCMP_ACT_ERRNO", errnoRet: 1, comment: "x" },
      { names: ["mount"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
      { names: ["kexec_load"], action: "SCMP_ACT_ERRNO", excludes: { arches: ["amd64"] } },
    ],
  });
  assertEquals(parseSeccompProfile(text, { capabilities: [], arch: "x86_64", source: "t" }), {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [
      { names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO" },
      { names: ["sethostname"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
    ],
  });
  for (const bad of ["{", "[]", "{}", '{"defaultAction":"A","syscalls":[{"names":["x"]}]}']) {
    assertThrows(
      () => parseSeccompProfile(bad, { capabilities: [], arch: "x86_64", source: "t" }),
      InvalidArgumentError,
    );
  }
});

Deno.test("resolveSeccomp() uses the configured default file and needs the localhost text", () => {
  const opts = { capabilities: [], arch: "x86_64" };
  assertEquals(resolveSeccomp({ kind: "unconfined" }, opts), undefined);
  assertEquals(
    resolveSeccomp({ kind: "runtime-default" }, {
      ...opts,
      runtimeDefaultText: '{"defaultAction":"X"}',
    }),
    { defaultAction: "X", syscalls: [] },
  );
  assertThrows(() => resolveSeccomp({ kind: "localhost", path: "/p" }, opts), InvalidArgumentError);
});
