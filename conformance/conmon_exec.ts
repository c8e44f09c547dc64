/**
 * One ExecSync the way the daemon runs it, without the daemon: `conmon -e --sync` with the
 * daemon's arguments (src/oci/exec_sync.ts), started directly. The floor under ExecSync that
 * conformance/exec_floor.ts and the bench's (d) rows measure.
 */
import { execSyncArgs, type ExecSyncFiles, MAX_EXEC_SYNC_OUTPUT } from "../src/oci/exec_sync.ts";

export const CONMON = "/usr/bin/conmon";

/** Where one exec's files go: the daemon's layout (src/oci/runtime.ts), in a scratch dir. */
export function execFiles(dir: string, tag: string): ExecSyncFiles {
  return {
    processFile: `${dir}/${tag}.json`,
    pidFile: `${dir}/${tag}.pid`,
    logFile: `${dir}/${tag}.log`,
    runtimeLog: `${dir}/${tag}.rlog`,
  };
}

/** The container's process (from ContainerStatus' verbose runtime spec), running `true`. */
export function trueProcess(process: Record<string, unknown>): string {
  return JSON.stringify({ ...process, args: ["true"], terminal: false });
}

/** Runs conmon once with the process spec already in files.processFile; throws on failure. */
export async function conmonExec(
  o: { containerId: string; runtimePath: string; runtimeRoot: string; files: ExecSyncFiles },
): Promise<void> {
  const args = execSyncArgs({
    containerId: o.containerId,
    runtimePath: o.runtimePath,
    runtimeRoot: o.runtimeRoot,
    cap: MAX_EXEC_SYNC_OUTPUT,
    timeoutSeconds: 10,
  }, o.files);
  const out = await new Deno.Command(CONMON, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`conmon exec in container ${o.containerId}: ${why}`);
  }
}
