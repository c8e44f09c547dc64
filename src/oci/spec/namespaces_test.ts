import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { NamespaceMode as M, type NamespaceOption } from "../../cri/gen/api.ts";
import { buildNamespaces, type PodNamespaces } from "./namespaces.ts";

const pod: PodNamespaces = {
  net: "/run/netns/p",
  ipc: "/run/ipcns/p",
  uts: "/run/utsns/p",
  pid: "/proc/9/ns/pid",
};
const show = (o: NamespaceOption | undefined, p: Parameters<typeof buildNamespaces>[1]) =>
  buildNamespaces(o, p).map((n) => (n.path ? `${n.type}=${n.path}` : n.type));

Deno.test("buildNamespaces() joins the pod's and follows the modes", () => {
  const cases: [
    string,
    NamespaceOption | undefined,
    Parameters<typeof buildNamespaces>[1],
    string[],
  ][] = [
    ["no pod: all new", { pid: M.CONTAINER }, {}, ["network", "ipc", "uts", "pid", "mount"]],
    ["pod, container pid", { pid: M.CONTAINER }, { namespaces: pod }, [
      "network=/run/netns/p",
      "ipc=/run/ipcns/p",
      "uts=/run/utsns/p",
      "pid",
      "mount",
    ]],
    ["absent pid means POD", {}, { namespaces: pod }, [
      "network=/run/netns/p",
      "ipc=/run/ipcns/p",
      "uts=/run/utsns/p",
      "pid=/proc/9/ns/pid",
      "mount",
    ]],
    ["host network drops net and uts", { network: M.NODE, pid: M.CONTAINER }, { namespaces: pod }, [
      "ipc=/run/ipcns/p",
      "pid",
      "mount",
    ]],
    ["host ipc and pid", { ipc: M.NODE, pid: M.NODE }, { namespaces: pod }, [
      "network=/run/netns/p",
      "uts=/run/utsns/p",
      "mount",
    ]],
    ["target", { pid: M.TARGET, targetId: "c1" }, { targetPidPath: "/proc/7/ns/pid" }, [
      "network",
      "ipc",
      "uts",
      "pid=/proc/7/ns/pid",
      "mount",
    ]],
    ["user namespace joined", { pid: M.CONTAINER }, { namespaces: { user: "/run/userns/p" } }, [
      "network",
      "ipc",
      "uts",
      "pid",
      "user=/run/userns/p",
      "mount",
    ]],
  ];
  for (const [name, o, p, want] of cases) assertEquals(show(o, p), want, name);
});

Deno.test("buildNamespaces() refuses a pod or target PID namespace it does not have", () => {
  assertThrows(() => buildNamespaces({ pid: M.POD }, {}), InvalidArgumentError, "pod PID");
  assertThrows(() => buildNamespaces({ pid: M.TARGET }, {}), InvalidArgumentError, "target");
  assertThrows(() => buildNamespaces({ pid: 9 as M }, {}), InvalidArgumentError, "unknown");
});
