/** The machine and versions a run measured, for the report. */
import { daemonVersion } from "../src/version.ts";
import type { Machine } from "./report.ts";

async function firstLine(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(out.stdout.length ? out.stdout : out.stderr);
    return text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "?";
  } catch {
    return "not installed";
  }
}

/** The last blank-separated word of a version line, e.g. `runc version 1.1.5+ds1` → `1.1.5+ds1`. */
export function versionWord(line: string, pattern = /(\d+\.\d+[^\s]*)/): string {
  return pattern.exec(line)?.[1] ?? line;
}

async function osName(): Promise<string> {
  try {
    const text = await Deno.readTextFile("/etc/os-release");
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? Deno.build.os;
  } catch {
    return Deno.build.os;
  }
}

export async function describeMachine(o: { critest: string }): Promise<Machine> {
  const [containerd, runc, crun, conmon, cni, critest, commit] = await Promise.all([
    firstLine("containerd", ["--version"]),
    firstLine("runc", ["--version"]),
    firstLine("crun", ["--version"]),
    firstLine("conmon", ["--version"]),
    firstLine("dpkg-query", ["-W", "-f=${Version}", "containernetworking-plugins"]),
    firstLine(o.critest, ["--version"]),
    firstLine("git", [
      "-C",
      new URL("..", import.meta.url).pathname,
      "rev-parse",
      "--short",
      "HEAD",
    ]),
  ]);
  return {
    nproc: navigator.hardwareConcurrency,
    memoryGiB: Deno.systemMemoryInfo().total / 2 ** 30,
    kernel: Deno.osRelease(),
    os: await osName(),
    loadAverage: Deno.loadavg()[0],
    versions: {
      "crio-deno": `${daemonVersion()} (${commit})`,
      deno: Deno.version.deno,
      containerd: versionWord(containerd, /containerd \S+ (\S+)/),
      runc: versionWord(runc),
      crun: versionWord(crun),
      conmon: versionWord(conmon),
      "CNI plugins": cni,
      critest: versionWord(critest),
    },
  };
}
