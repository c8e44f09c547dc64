import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { cgroupsPath, containerLogPath, containerName } from "./paths.ts";

Deno.test("containerName() spells CRI-O's k8s_ name", () => {
  assertEquals(
    containerName({ name: "app", attempt: 2 }, { name: "pod", namespace: "ns", uid: "u1" }),
    "k8s_app_pod_ns_u1_2",
  );
  assertThrows(() => containerName({}, {}), InvalidArgumentError);
});

Deno.test("cgroupsPath() for both drivers", () => {
  const cases: [Parameters<typeof cgroupsPath>, string][] = [
    [["cgroupfs", { containerId: "abc" }], "/crio/crio-abc"],
    [["cgroupfs", { parent: "/kubepods/pod1/", containerId: "abc" }], "/kubepods/pod1/crio-abc"],
    [["cgroupfs", { parent: "/", containerId: "abc" }], "/crio-abc"],
    [["cgroupfs", { parent: "kubepods", containerId: "abc" }], "/kubepods/crio-abc"],
    [["systemd", { containerId: "abc" }], "system.slice:crio:abc"],
    [
      ["systemd", { parent: "kubepods-pod1.slice", containerId: "abc" }],
      "kubepods-pod1.slice:crio:abc",
    ],
  ];
  for (const [args, want] of cases) assertEquals(cgroupsPath(...args), want);
});

Deno.test("containerLogPath() stays inside the pod log directory", () => {
  const dir = "/var/log/pods/ns_pod_uid";
  const cases: [string | undefined, string][] = [
    [undefined, `${dir}/cid.log`],
    ["app/0.log", `${dir}/app/0.log`],
    ["./app//0.log", `${dir}/app/0.log`],
    [`${dir}/app/1.log`, `${dir}/app/1.log`],
    ["/other/x.log", `${dir}/other/x.log`],
  ];
  for (const [logPath, want] of cases) {
    assertEquals(containerLogPath({ logDirectory: `${dir}/`, logPath, containerId: "cid" }), want);
  }
  for (const bad of ["../x.log", "app/../../x.log", ".", "a\0b"]) {
    assertThrows(
      () => containerLogPath({ logDirectory: dir, logPath: bad, containerId: "c" }),
      InvalidArgumentError,
    );
  }
  assertThrows(
    () => containerLogPath({ logDirectory: "rel", containerId: "c" }),
    InvalidArgumentError,
  );
});
