import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { defaultConfig } from "../../config/options.ts";
import {
  type ContainerConfig,
  NamespaceMode,
  SecurityProfile_ProfileType,
  Signal,
} from "../../cri/gen/api.ts";
import { buildContainerSpec, type HostFacts, type SpecInput, stopSignalName } from "./build.ts";

const facts: HostFacts = {
  arch: "x86_64",
  lastCap: 40,
  daemonOomScoreAdj: 0,
  canLowerOomScore: false,
  cgroupV2: false,
  swapAccounting: true,
  rroSupported: true,
  apparmorEnabled: false,
};
const handler = {
  name: "runc",
  allowedAnnotations: [],
  minMemory: 12 << 20,
  privilegedWithoutHostDevices: false,
};

function input(config: ContainerConfig = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    containerId: "c0ffee",
    sandboxId: "5a1d",
    config: { metadata: { name: "app" }, ...config },
    sandboxConfig: { metadata: { name: "pod", namespace: "ns", uid: "u" }, hostname: "pod-host" },
    image: {
      // Labels are not part of ImageConfig; a caller passing the whole config must not leak them.
      config: { Cmd: ["/bin/sh"], Env: ["A=1"], Labels: { "io.evil": "x" } } as never,
      requested: "busybox",
      name: "docker.io/library/busybox:latest",
      ref: "sha256:1",
    },
    rootfs: "/rootfs",
    logPath: "/logs/app/0.log",
    user: { uid: 0, gid: 0, additionalGids: [0] },
    pod: {
      namespaces: { net: "/ns/net", ipc: "/ns/ipc", uts: "/ns/uts" },
      files: { shmPath: "/pod/shm" },
    },
    created: new Date(0),
    ...extra,
  };
}

function build(config?: ContainerConfig, extra?: Partial<SpecInput>, cfg = defaultConfig()) {
  cfg.runtime.cgroup_manager = "cgroupfs";
  return buildContainerSpec(input(config, extra), { config: cfg, handler, facts });
}

Deno.test("buildContainerSpec() composes a default container", () => {
  const { spec, name, warnings, seccompRef } = build({
    linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.CONTAINER } } },
  });
  assertEquals(name, "k8s_app_pod_ns_u_0");
  assertEquals(spec.process.args, ["/bin/sh"]);
  assertEquals(spec.process.env.slice(1), ["HOSTNAME=pod-host", "A=1"]);
  assertEquals(spec.hostname, "pod-host");
  assertEquals(spec.root, { path: "/rootfs", readonly: false });
  assertEquals(spec.linux.cgroupsPath, "/crio/crio-c0ffee");
  assertEquals(spec.linux.namespaces.map((n) => n.type), ["network", "ipc", "uts", "pid", "mount"]);
  assertEquals(spec.process.capabilities?.bounding.length, 9);
  assertEquals(spec.process.oomScoreAdj, 0);
  assertEquals(spec.linux.seccomp, undefined);
  assertEquals(seccompRef, "Unconfined");
  assert(spec.linux.maskedPaths!.includes("/proc/kcore"));
  assertEquals(spec.mounts.find((m) => m.destination === "/dev/shm")?.source, "/pod/shm");
  assertEquals(spec.linux.resources?.devices, [{ allow: false, access: "rwm" }]);
  assertEquals(warnings, []);
  assert(!JSON.stringify(spec).includes("io.evil"), "image labels never reach the spec");
});

Deno.test("buildContainerSpec() applies the security context", () => {
  const cases: [string, ContainerConfig, (s: ReturnType<typeof build>) => void][] = [
    ["run as user and groups", {
      linux: {
        securityContext: { runAsUser: { value: 1000 }, noNewPrivs: true, readonlyRootfs: true },
      },
    }, (r) => {
      assertEquals(r.spec.process.noNewPrivileges, true);
      assertEquals(r.spec.root.readonly, true);
    }],
    ["runtime default seccomp", {
      linux: {
        securityContext: { seccomp: { profileType: SecurityProfile_ProfileType.RuntimeDefault } },
      },
    }, (r) => {
      assertEquals(r.spec.linux.seccomp?.defaultAction, "SCMP_ACT_ERRNO");
      assertEquals(r.seccompRef, "RuntimeDefault");
    }],
    ["host network: no hostname", {
      linux: {
        securityContext: {
          namespaceOptions: { network: NamespaceMode.NODE, pid: NamespaceMode.CONTAINER },
        },
      },
    }, (r) => {
      assertEquals(r.spec.hostname, undefined);
      assert(!r.spec.process.env.some((e) => e.startsWith("HOSTNAME=")));
    }],
    ["oom clamp", { linux: { resources: { oomScoreAdj: -997 } } }, (r) => {
      assertEquals(r.spec.process.oomScoreAdj, 0);
      assertEquals(r.warnings.length, 1);
    }],
    ["tty", { tty: true, stdin: true }, (r) => {
      assertEquals(r.spec.process.terminal, true);
      assert(r.spec.process.env.includes("TERM=xterm"));
    }],
    ["stop signal", { stopSignal: Signal.SIGNAL_SIGQUIT }, (r) => {
      assertEquals(r.stopSignal, "SIGQUIT");
      assertEquals(r.spec.annotations["org.opencontainers.image.stopSignal"], "SIGQUIT");
    }],
  ];
  for (const [name, cfg, check] of cases) {
    const c: ContainerConfig = { ...cfg };
    const ns = c.linux?.securityContext?.namespaceOptions ?? { pid: NamespaceMode.CONTAINER };
    c.linux = {
      ...c.linux,
      securityContext: { ...c.linux?.securityContext, namespaceOptions: ns },
    };
    try {
      check(build(c));
    } catch (err) {
      throw new Error(`${name}: ${err}`);
    }
  }
});

Deno.test("buildContainerSpec() for a privileged container", () => {
  const priv = {
    linux: {
      securityContext: {
        privileged: true,
        namespaceOptions: { pid: NamespaceMode.CONTAINER },
        seccomp: {},
      },
    },
  };
  assertThrows(() => build(priv), InvalidArgumentError, "privileged pod");
  const extra = {
    sandboxConfig: { metadata: { name: "pod" }, linux: { securityContext: { privileged: true } } },
    hostDevices: [{
      path: "/dev/sda",
      type: "b" as const,
      major: 8,
      minor: 0,
      fileMode: 0o660,
      uid: 0,
      gid: 0,
      access: "rwm",
    }],
  };
  const { spec } = build(priv, extra);
  assertEquals(spec.process.capabilities?.bounding.length, 41);
  assertEquals([spec.linux.maskedPaths, spec.linux.readonlyPaths, spec.linux.seccomp], [
    [],
    [],
    undefined,
  ]);
  assertEquals(spec.linux.devices?.map((d) => d.path), ["/dev/sda"]);
  assertEquals(spec.linux.resources?.devices?.at(-1), { allow: true, access: "rwm" });
});

Deno.test("buildContainerSpec() honours daemon settings", () => {
  const cfg = defaultConfig();
  cfg.runtime.read_only = true;
  cfg.runtime.default_env = ["FROM_DAEMON=1"];
  cfg.runtime.default_ulimits = ["nofile=1024:2048"];
  cfg.runtime.pids_limit = 100;
  const { spec } = build(
    { linux: { securityContext: { namespaceOptions: { pid: NamespaceMode.CONTAINER } } } },
    {},
    cfg,
  );
  assertEquals(spec.root.readonly, true);
  assert(spec.mounts.some((m) => m.destination === "/tmp" && m.type === "tmpfs"));
  assert(spec.process.env.includes("FROM_DAEMON=1"));
  assertEquals(spec.process.rlimits, [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 2048 }]);
  assertEquals(spec.linux.resources?.pids, { limit: 100 });
});

Deno.test("stopSignalName() normalises CRI and image signals", () => {
  const cases: [Signal | undefined, string | undefined, string | undefined][] = [
    [undefined, undefined, undefined],
    [Signal.SIGNAL_RUNTIME_DEFAULT, "SIGQUIT", "SIGQUIT"],
    [undefined, "quit", "SIGQUIT"],
    [undefined, "9", "9"],
    [Signal.SIGNAL_SIGUSR1, "SIGQUIT", "SIGUSR1"],
  ];
  for (const [cri, image, want] of cases) assertEquals(stopSignalName(cri, image), want);
});
