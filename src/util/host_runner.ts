/**
 * The seam for running host binaries (unshare, mount, CNI plugins, nsenter): services take a
 * HostRunner, tests pass a fake that records the calls, so the sandbox code is tested without root.
 */

import { afterHelperExit } from "./memory.ts";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  args?: readonly string[];
  /** Added to the inherited environment (CNI plugins need PATH to find iptables). */
  env?: Record<string, string>;
  stdin?: string;
  /** Working directory: overlay's lowerdir uses short relative links, resolved from here. */
  cwd?: string;
}

export interface HostRunner {
  run(cmd: string, options?: RunOptions): Promise<RunResult>;
}

const decoder = new TextDecoder();

export const hostRunner: HostRunner = {
  async run(cmd, options = {}) {
    const child = new Deno.Command(cmd, {
      args: [...(options.args ?? [])],
      env: options.env,
      cwd: options.cwd,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const w = child.stdin.getWriter();
      // A plugin that exits without reading its stdin must not fail the call: its exit code and
      // output say what went wrong.
      await w.write(new TextEncoder().encode(options.stdin)).catch(() => {});
      await w.close().catch(() => {});
    }
    const out = await child.output();
    afterHelperExit();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  },
};

/** Runs cmd and throws an Error naming it and its stderr when it exits non-zero. */
export async function runChecked(
  runner: HostRunner,
  cmd: string,
  options: RunOptions = {},
): Promise<string> {
  const r = await runner.run(cmd, options);
  if (r.code !== 0) {
    const args = (options.args ?? []).join(" ");
    throw new Error(`${cmd} ${args} exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}
