/**
 * A fake host for sandbox unit tests: records every command, keeps a mount table that mount(8),
 * unshare and the Mounter seam (mount(2)/umount2(2)) change as the real ones would, answers CNI
 * plugins with a result, and fails any command whose text matches a pattern (failure injection).
 */
import type { HostRunner, RunOptions, RunResult } from "../util/host_runner.ts";
import type { CniFs } from "../net/cni_config.ts";
import type { BindMounter, Mounter } from "../util/libc_io.ts";

export interface FakeCall {
  cmd: string;
  args: string[];
  env: Record<string, string>;
  stdin?: string;
}

export class FakeHost {
  readonly calls: FakeCall[] = [];
  readonly mounts = new Set<string>();
  /** Commands whose "cmd args… CNI_COMMAND" text matches fail with exit 1. */
  failOn?: RegExp;
  #nextIp = 2;

  readonly runner: HostRunner = { run: (cmd, o) => Promise.resolve(this.#run(cmd, o ?? {})) };
  readonly mountPoints = () => Promise.resolve(new Set(this.mounts));
  /** mount(2)/umount(2) on the same table, recorded as "syscall:mount"/"syscall:umount" calls. */
  readonly mounter: Mounter & BindMounter = {
    unmount: (path) => {
      this.#syscall("syscall:umount", [path]);
      return this.mounts.delete(path);
    },
    mountFs: (target, o) => {
      this.#syscall("syscall:mount", ["-t", o.type, o.data ?? "", o.source ?? o.type, target]);
      this.mounts.add(target);
    },
    bindMount: (source, target) => {
      this.#syscall("syscall:mount", ["--bind", source, target]);
      this.mounts.add(target);
    },
    makePrivate: (target) => {
      this.#syscall("syscall:mount", ["--make-private", target]);
      if (!this.mounts.has(target)) throw new Error(`make ${target} a private mount: EINVAL`);
    },
  };

  #syscall(cmd: string, args: string[]): void {
    this.calls.push({ cmd, args, env: {} });
    if (this.failOn?.test([cmd, ...args].join(" "))) throw new Error(`injected: ${cmd}`);
  }
  readonly cniFs: CniFs = {
    readDir: () => Promise.resolve([]),
    readFile: () => Promise.reject(new Deno.errors.NotFound("fake")),
    isExecutable: (p) => Promise.resolve(p.startsWith("/fake/cni/")),
  };

  #run(cmd: string, o: RunOptions): RunResult {
    const args = [...(o.args ?? [])];
    const env = o.env ?? {};
    this.calls.push({ cmd, args, env, stdin: o.stdin });
    const text = [cmd, ...args, env.CNI_COMMAND ?? ""].join(" ");
    if (this.failOn?.test(text)) {
      const msg = JSON.stringify({ cniVersion: "1.0.0", code: 7, msg: "injected", details: text });
      return { code: 1, stdout: cmd.startsWith("/fake/cni/") ? msg : "", stderr: "injected" };
    }
    const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
    if (cmd.endsWith("/unshare")) {
      for (const a of args) {
        const m = /^--(net|ipc|uts)=(.+)$/.exec(a);
        if (m) this.mounts.add(m[2]!);
      }
      return ok();
    }
    if (cmd.endsWith("/mount")) {
      if (args[0] === "--bind" || args[0] === "-t") this.mounts.add(args.at(-1)!);
      return ok();
    }
    if (cmd.startsWith("/fake/cni/")) return this.#cni(env, o.stdin ?? "{}");
    return ok();
  }

  #cni(env: Record<string, string>, stdin: string): RunResult {
    if (env.CNI_COMMAND !== "ADD") return { code: 0, stdout: "", stderr: "" };
    // A chained plugin (portmap) passes its prevResult through, as the real ones do.
    const prev = JSON.parse(stdin).prevResult;
    if (prev) return { code: 0, stdout: JSON.stringify(prev), stderr: "" };
    const address = env.CNI_IFNAME === "lo" ? "127.0.0.1/8" : `10.99.0.${this.#nextIp++}/24`;
    const result = { cniVersion: "1.0.0", ips: [{ address }] };
    return { code: 0, stdout: JSON.stringify(result), stderr: "" };
  }

  /** The CNI commands run, as "COMMAND ifname". */
  cniCalls(): string[] {
    return this.calls.filter((c) => c.env.CNI_COMMAND).map((c) =>
      `${c.env.CNI_COMMAND} ${c.env.CNI_IFNAME}`
    );
  }
}
