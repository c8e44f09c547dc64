/**
 * The floor under this daemon's ExecSync with its monitor: the same `true` through
 * `conmon -e --sync` with the daemon's own arguments, started by the bench (no daemon). ExecSync
 * minus this is the daemon's own share; this minus the OCI runtime's exec alone is conmon's.
 */
import { conmonExec, execFiles, trueProcess } from "../conformance/conmon_exec.ts";
import { rt, type Target, timed } from "./target.ts";

/** Times `calls` runs of conmon's exec; each run's files live in a dir under `scratch`. */
export async function timeConmonExec(
  t: Target,
  o: { containerId: string; calls: number; scratch: string },
): Promise<number[]> {
  const res = await rt(t, "ContainerStatus", { containerId: o.containerId, verbose: true });
  const spec = trueProcess(
    JSON.parse((res.info as Record<string, string>).info).runtimeSpec.process,
  );
  const dir = await Deno.makeTempDir({ dir: o.scratch, prefix: "conmon-exec-" });
  const ms: number[] = [];
  try {
    for (let i = 0; i < o.calls; i++) {
      const files = execFiles(dir, `e${i}`);
      await Deno.writeTextFile(files.processFile, spec);
      const [took] = await timed(() =>
        conmonExec({
          containerId: o.containerId,
          runtimePath: t.ociRuntime.binary,
          runtimeRoot: t.ociRuntime.root,
          files,
        })
      );
      ms.push(took);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return ms;
}
