/**
 * The floor under this daemon's ExecSync with its monitor: the same `true` through
 * `conmon -e --sync` with the daemon's own arguments, started by the bench (no daemon). ExecSync
 * minus this is the daemon's own share; this minus the OCI runtime's exec alone is conmon's.
 */
import { execFiles } from "../conformance/exec_floor.ts";
import { execSyncArgs, MAX_EXEC_SYNC_OUTPUT } from "../src/oci/exec_sync.ts";
import { rt, type Target, timed } from "./target.ts";

const CONMON = "/usr/bin/conmon";

/** The process of the spec the daemon gave the runtime, running `true`. */
async function trueProcess(t: Target, containerId: string): Promise<string> {
  const res = await rt(t, "ContainerStatus", { containerId, verbose: true });
  const info = JSON.parse((res.info as Record<string, string>).info);
  return JSON.stringify({ ...info.runtimeSpec.process, args: ["true"], terminal: false });
}

/** Times `calls` runs of conmon's exec; each run's files live in a dir under `scratch`. */
export async function conmonExec(
  t: Target,
  o: { containerId: string; calls: number; scratch: string },
): Promise<number[]> {
  const spec = await trueProcess(t, o.containerId);
  const dir = await Deno.makeTempDir({ dir: o.scratch, prefix: "conmon-exec-" });
  const ms: number[] = [];
  try {
    for (let i = 0; i < o.calls; i++) {
      const files = execFiles(dir, `e${i}`);
      await Deno.writeTextFile(files.processFile, spec);
      const args = execSyncArgs({
        containerId: o.containerId,
        runtimePath: t.ociRuntime.binary,
        runtimeRoot: t.ociRuntime.root,
        cap: MAX_EXEC_SYNC_OUTPUT,
        timeoutSeconds: 10,
      }, files);
      const [took, out] = await timed(() =>
        new Deno.Command(CONMON, { args, stdout: "null", stderr: "piped" }).output()
      );
      if (!out.success) {
        const why = new TextDecoder().decode(out.stderr).trim();
        throw new Error(`conmon exec in ${t.name}'s container ${o.containerId}: ${why}`);
      }
      ms.push(took);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return ms;
}
