/**
 * (d) ExecSync `true` and the floors under it, interleaved: after every few ExecSync calls the
 * bench runs the same `true` through the OCI runtime's own `exec` (no daemon, no monitor) and,
 * for this daemon, through `conmon -e --sync` with the daemon's arguments (no daemon). Run as
 * three blocks one after the other, `runc exec` alone moved by up to 16 ms between runs, more than
 * the daemon's share, so the floors are sampled in the same minutes as the calls they explain;
 * the ExecSync right before each conmon run gives a paired difference, the daemon's share free of
 * that drift.
 */
import { type ConmonExecRunner, conmonExecRunner } from "../conmon_exec.ts";
import { rt, type Target, timed } from "../target.ts";
import type { Samples, WorkloadContext } from "./common.ts";

/** One `true` through the OCI runtime's `exec`, as the bench itself runs it. */
async function directExec(t: Target, containerId: string): Promise<number> {
  const { binary, root } = t.ociRuntime;
  const [ms, out] = await timed(() =>
    new Deno.Command(binary, {
      args: ["--root", root, "exec", containerId, "true"],
      stdout: "null",
      stderr: "piped",
    }).output()
  );
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`${binary} exec in ${t.name}'s container ${containerId}: ${why}`);
  }
  return ms;
}

/**
 * `calls` ExecSync calls; after every `calls / floorCalls`-th, one runtime exec and (this daemon)
 * one conmon exec. Samples: "ExecSync", "runtime exec", "conmon exec", and "exec share" (each
 * ExecSync minus the conmon exec right after it).
 */
export async function execRounds(
  t: Target,
  o: { ctx: WorkloadContext; s: Samples; containerId: string; calls: number; floorCalls: number },
): Promise<void> {
  const every = Math.max(1, Math.floor(o.calls / o.floorCalls));
  const req = { containerId: o.containerId, cmd: ["true"], timeout: 10 };
  let conmon: ConmonExecRunner | undefined;
  if (t.name === "crio-deno") {
    conmon = await conmonExecRunner(t, { containerId: o.containerId, scratch: o.ctx.scratch });
  }
  try {
    for (let i = 0; i < o.calls; i++) {
      const [ms] = await timed(() => rt(t, "ExecSync", req));
      o.s.add("ExecSync", t.name, ms);
      if (i % every !== every - 1) continue;
      o.s.add("runtime exec", t.name, await directExec(t, o.containerId));
      if (!conmon) continue;
      const floor = await conmon.once();
      o.s.add("conmon exec", t.name, floor);
      o.s.add("exec share", t.name, ms - floor);
    }
  } finally {
    await conmon?.close();
  }
}
