import { assertEquals } from "../../testing/asserts.ts";
import { NamespaceMode } from "../../cri/gen/api.ts";
import { type InfraDecision, needsInfra } from "./infra.ts";

Deno.test("needsInfra(): a shared pod PID namespace or a VM handler, as CRI-O decides", () => {
  const base: InfraDecision = {
    pid: NamespaceMode.CONTAINER,
    handler: "runc",
    runtimeType: "oci",
    dropInfra: true,
  };
  const cases: [Partial<InfraDecision>, boolean][] = [
    [{}, false],
    [{ pid: NamespaceMode.NODE }, false],
    [{ pid: NamespaceMode.TARGET }, false],
    [{ pid: NamespaceMode.POD }, true],
    [{ runtimeType: "vm" }, true],
    [{ runtimeType: "vm", pid: NamespaceMode.NODE }, true],
    [{ runtimeType: "pod" }, false],
    [{ handler: "kata-qemu" }, true],
    [{ dropInfra: false }, true],
    [{ dropInfra: false, pid: NamespaceMode.NODE }, true],
  ];
  for (const [over, want] of cases) {
    assertEquals(needsInfra({ ...base, ...over }), want, JSON.stringify(over));
  }
});
