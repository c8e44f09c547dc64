/**
 * The floor under this daemon's ExecSync with its monitor: the same `true` through
 * `conmon -e --sync` with the daemon's own arguments, started by the bench (no daemon). ExecSync
 * minus this is the daemon's own share; this minus the OCI runtime's exec alone is conmon's.
 */
import { conmonExec, execFiles, trueProcess } from "../conformance/conmon_exec.ts";
import { rt, type Target, timed } from "./target.ts";

export interface ConmonExecRunner {
  /** One timed run of conmon's exec, in ms. */
  once(): Promise<number>;
  close(): Promise<void>;
}

/** A runner for t's container; each run's files live in a dir under `scratch`. */
export async function conmonExecRunner(
  t: Target,
  o: { containerId: string; scratch: string },
): Promise<ConmonExecRunner> {
  const res = await rt(t, "ContainerStatus", { containerId: o.containerId, verbose: true });
  const spec = trueProcess(
    JSON.parse((res.info as Record<string, string>).info).runtimeSpec.process,
  );
  const dir = await Deno.makeTempDir({ dir: o.scratch, prefix: "conmon-exec-" });
  let n = 0;
  return {
    async once() {
      const files = execFiles(dir, `e${n++}`);
      await Deno.writeTextFile(files.processFile, spec);
      const [took] = await timed(() =>
        conmonExec({
          containerId: o.containerId,
          runtimePath: t.ociRuntime.binary,
          runtimeRoot: t.ociRuntime.root,
          files,
        })
      );
      return took;
    },
    close: () => Deno.remove(dir, { recursive: true }),
  };
}
