import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { cgroupParent, expandSlice } from "./cgroup_parent.ts";

Deno.test("cgroupParent() expands systemd slices into the cgroup path", () => {
  assertEquals(cgroupParent("kubepods-besteffort-pod12_3.slice", { driver: "systemd" }), {
    parent: "kubepods-besteffort-pod12_3.slice",
    path: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_3.slice",
  });
  assertEquals(cgroupParent("", { driver: "systemd" }).path, "/system.slice");
  assertEquals(expandSlice("-.slice"), "/");
  for (const bad of ["/kubepods", "kubepods", "a--b.slice", "a/b.slice"]) {
    assertThrows(() => cgroupParent(bad, { driver: "systemd" }), InvalidArgumentError);
  }
});

Deno.test("cgroupParent() takes absolute cgroupfs paths without . or ..", () => {
  assertEquals(
    cgroupParent("/kubepods/besteffort/pod1", { driver: "cgroupfs" }).path,
    "/kubepods/besteffort/pod1",
  );
  assertEquals(cgroupParent("", { driver: "cgroupfs" }).parent, "/crio");
  for (const bad of ["kubepods", "/kubepods/../../etc", "/a/./b", "/a\nb"]) {
    assertThrows(() => cgroupParent(bad, { driver: "cgroupfs" }), InvalidArgumentError);
  }
});
