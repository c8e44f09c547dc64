import { assertEquals } from "../../testing/asserts.ts";
import { ANN, buildAnnotations, filterAnnotations } from "./annotations.ts";

Deno.test("filterAnnotations() drops keys runtimes act on unless allowed", () => {
  const input = {
    "run.oci.keep_original_groups": "1",
    "org.systemd.property.CollectMode": "'inactive-or-failed'",
    "io.kubernetes.cri-o.Devices": "/dev/x",
    "io.containers.trace-syscall": "of:/tmp/x",
    "example.com/mine": "ok",
  };
  const cases: [string[], string[]][] = [
    [[], ["example.com/mine"]],
    [["io.containers.trace-syscall"], ["io.containers.trace-syscall", "example.com/mine"]],
    [["run.oci."], ["run.oci.keep_original_groups", "example.com/mine"]],
  ];
  for (const [allowed, kept] of cases) {
    const r = filterAnnotations(input, allowed);
    assertEquals(Object.keys(r.kept).sort(), kept.sort());
    assertEquals(r.dropped.length, 5 - kept.length);
  }
});

Deno.test("buildAnnotations() writes CRI-O's keys and keeps the CRI ones", () => {
  const { annotations: a, dropped } = buildAnnotations({
    containerId: "cid",
    name: "k8s_c_p_ns_u_0",
    sandboxId: "sid",
    sandboxName: "k8s_p_ns_u_0",
    metadata: { name: "c", attempt: 0 },
    image: { requested: "busybox", name: "docker.io/library/busybox:latest", ref: "sha256:ab" },
    logPath: "/logs/c/0.log",
    tty: true,
    stdin: false,
    stdinOnce: false,
    rootfs: "/rootfs",
    seccompRef: "RuntimeDefault",
    created: new Date("2025-01-02T03:04:05.678Z"),
    labels: { "io.kubernetes.container.name": "c" },
    annotations: { "io.kubernetes.container.hash": "h", "run.oci.x": "no" },
    sandboxAnnotations: { "pod-ann": "p" },
    volumes: [],
    podIps: ["10.0.0.2", "fd00::2"],
    stopSignal: "SIGQUIT",
  }, []);
  assertEquals(dropped, ["run.oci.x"]);
  assertEquals(a[ANN.containerId], "cid");
  assertEquals(a[ANN.tty], "true");
  assertEquals(a[ANN.created], "2025-01-02T03:04:05.678Z");
  assertEquals(JSON.parse(a[ANN.labels]), { "io.kubernetes.container.name": "c" });
  assertEquals(JSON.parse(a[ANN.annotations]), {
    "io.kubernetes.container.hash": "h",
    "run.oci.x": "no",
  });
  assertEquals(
    [a["io.kubernetes.container.name"], a["io.kubernetes.container.hash"], a["pod-ann"]],
    ["c", "h", "p"],
  );
  assertEquals([a[`${ANN.ip}.0`], a[`${ANN.ip}.1`]], ["10.0.0.2", "fd00::2"]);
  assertEquals(a[ANN.stopSignal], "SIGQUIT");
  assertEquals(a["run.oci.x"], undefined);
});
