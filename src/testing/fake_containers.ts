/**
 * Fakes for the container service's unit tests: container metadata, and an OCI runtime whose
 * containers are entries in a map (state, exit record) with every call recorded.
 */
import type { ContainerMeta } from "../runtime/container/container_state.ts";
import type { ExitRecord, OciRuntime, RuntimeState } from "../oci/runtime.ts";
import type { MountBinaries } from "../runtime/container/rootfs.ts";

export function fakeMeta(id: string, over: Partial<ContainerMeta> = {}): ContainerMeta {
  return {
    id,
    name: `k8s_c_p_ns_u_0_${id.slice(0, 4)}`,
    requestHash: "h",
    podId: "p".repeat(64),
    createdAt: "1",
    config: { metadata: { name: "c" }, labels: { a: "1" } },
    image: { requested: "busybox", name: "busybox:latest", ref: "sha256:r", id: "i" },
    runtimeHandler: "runc",
    logPath: "/logs/c.log",
    storageDir: `/nonexistent/${id}`,
    runDir: `/nonexistent/run/${id}`,
    bundle: `/nonexistent/run/${id}/bundle`,
    rootfs: `/nonexistent/run/${id}/merged`,
    mounts: [],
    ...over,
  };
}

export class FakeRuntime {
  readonly calls: string[] = [];
  readonly states = new Map<string, RuntimeState>();
  readonly exits = new Map<string, ExitRecord>();

  asRuntime(): OciRuntime {
    return this as unknown as OciRuntime;
  }

  exitFile(id: string): string {
    return `/nonexistent/exits/${id}`;
  }

  exitRecord(id: string): Promise<ExitRecord | undefined> {
    return Promise.resolve(this.exits.get(id));
  }

  state(id: string): Promise<RuntimeState | undefined> {
    return Promise.resolve(this.states.get(id));
  }

  start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    const s = this.states.get(id);
    if (s) this.states.set(id, { ...s, status: "running" });
    return Promise.resolve();
  }

  stop(id: string, o: { timeoutSeconds: number; signal?: string }): Promise<ExitRecord> {
    this.calls.push(`stop ${id} ${o.signal ?? "SIGTERM"} ${o.timeoutSeconds}`);
    const exit = { exitCode: 137, finishedAt: new Date(0), source: "exit-file" as const };
    this.exits.set(id, exit);
    return Promise.resolve(exit);
  }

  execStream(id: string, o: { cmd: string[] }): Promise<{ exitCode: number }> {
    this.calls.push(`exec ${id} ${o.cmd.join(" ")}`);
    return Promise.resolve({ exitCode: o.cmd[0] === "false" ? 1 : 0 });
  }

  attach(id: string): Promise<void> {
    this.calls.push(`attach ${id}`);
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.calls.push(`delete ${id}`);
    this.states.delete(id);
    return Promise.resolve();
  }
}

/** mount that always succeeds and umount that finds nothing mounted, recording nothing. */
export const noMounts: MountBinaries = {
  mount: "/bin/true",
  mounter: { unmount: () => false, mountFs: () => {} },
  runner: { run: () => Promise.resolve({ code: 0, stdout: "", stderr: "" }) },
};
