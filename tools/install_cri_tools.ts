/**
 * Builds the CRI validation tools (critest and crictl from sigs.k8s.io/cri-tools) for the requested
 * Kubernetes minors, and optionally actionlint, through the Go module proxy. Every module's hash is
 * checked against its pin before anything is built from it.
 *
 * Usage: install_cri_tools.ts [all | MINOR...] [--actionlint]
 *   no minor given: the default minor (unless only --actionlint is asked for)
 *
 * Output: .cache/cri-tools/<criTools version>/{critest,crictl} and .cache/bin/actionlint. A build
 * whose recorded hash matches the pin is kept. Stdout carries one line "<minor> <dir>" per requested
 * minor, for scripts; progress goes to stderr.
 *
 * Permissions: --allow-read --allow-write=.cache --allow-run=go --allow-env
 */
import { cacheDir, DEFAULT_MINOR, K8S_MINORS, k8sMinor } from "../src/cri/k8s_versions.ts";
import type { K8sMinor } from "../src/cri/k8s_versions.ts";

const CRI_TOOLS_MODULE = "sigs.k8s.io/cri-tools";

/** actionlint is only a lint for .github/workflows; pinned like everything else. */
const ACTIONLINT = {
  module: "github.com/rhysd/actionlint",
  pkg: "github.com/rhysd/actionlint/cmd/actionlint",
  version: "v1.7.12",
  sum: "h1:vQ4GeJN86C0QH+gTUQcs8McmK62OLT3kmakPMtEWYnY=",
};

/** The proxy reachable here refuses sum.golang.org lookups; the pins above take its place. */
const GO_ENV: Record<string, string> = {
  GOSUMDB: "off",
  GOFLAGS: "-mod=mod -trimpath",
  CGO_ENABLED: "0",
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function say(message: string): void {
  Deno.stderr.writeSync(encoder.encode(`install_cri_tools: ${message}\n`));
}

interface Options {
  minors: string[];
  actionlint: boolean;
}

const USAGE = "usage: install_cri_tools.ts [all | MINOR...] [--actionlint]\n" +
  `  minors: ${K8S_MINORS.map((m) => m.minor).join(", ")} (default ${DEFAULT_MINOR})\n`;

function parseArgs(args: readonly string[]): Options {
  const opts: Options = { minors: [], actionlint: false };
  for (const arg of args) {
    if (arg === "--actionlint") opts.actionlint = true;
    else if (arg === "-h" || arg === "--help") {
      Deno.stdout.writeSync(encoder.encode(USAGE));
      Deno.exit(0);
    } else if (arg.startsWith("-")) throw new Error(`unknown flag ${arg}\n${USAGE}`);
    else if (arg === "all") opts.minors.push(...K8S_MINORS.map((m) => m.minor));
    else opts.minors.push(k8sMinor(arg).minor);
  }
  if (opts.minors.length === 0 && !opts.actionlint) opts.minors.push(DEFAULT_MINOR);
  opts.minors = [...new Set(opts.minors)];
  return opts;
}

/** Runs go; stderr is passed through so build progress and errors are visible. */
async function go(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("go", {
      args,
      cwd: options.cwd,
      env: { ...GO_ENV, ...options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error("`go` is not on PATH: install Go (>= 1.24) at /usr/local/go and retry");
    }
    throw err;
  }
  if (!out.success) throw new Error(`go ${args.join(" ")} failed (exit ${out.code})`);
  return decoder.decode(out.stdout);
}

/** Downloads module@version into the module cache and returns its directory, refusing a hash mismatch. */
async function download(module: string, version: string, pin: string): Promise<string> {
  const info = JSON.parse(await go(["mod", "download", "-json", `${module}@${version}`]));
  if (info.Error) throw new Error(`${module}@${version}: ${info.Error}`);
  if (info.Sum !== pin) {
    throw new Error(`${module}@${version}: module hash ${info.Sum} does not match the pin ${pin}`);
  }
  return info.Dir as string;
}

async function readStamp(path: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Absolute form of the cache directory (GOBIN and `go -o` want absolute paths). */
function cacheRoot(): string {
  const dir = cacheDir();
  return dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
}

async function installCriTools(m: K8sMinor): Promise<string> {
  const dir = `${cacheRoot()}/cri-tools/${m.criTools}`;
  const stamp = `${dir}/.sum`;
  const binaries = ["critest", "crictl"];
  const present = await Promise.all(binaries.map((b) => isFile(`${dir}/${b}`)));
  if (present.every(Boolean) && (await readStamp(stamp)) === m.criToolsSum) {
    say(`cri-tools ${m.criTools} (Kubernetes ${m.minor}) already built in ${dir}`);
    return dir;
  }
  const src = await download(CRI_TOOLS_MODULE, m.criTools, m.criToolsSum);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.remove(stamp).catch(() => {});
  const ldflags = `-X ${CRI_TOOLS_MODULE}/pkg/version.Version=${m.criTools.replace(/^v/, "")}`;
  say(`building critest ${m.criTools} for Kubernetes ${m.minor} (takes a few minutes)`);
  await go(["test", "-c", "-ldflags", ldflags, "-o", `${dir}/.critest.tmp`, "./cmd/critest"], {
    cwd: src,
  });
  say(`building crictl ${m.criTools}`);
  await go(["build", "-ldflags", ldflags, "-o", `${dir}/.crictl.tmp`, "./cmd/crictl"], {
    cwd: src,
  });
  for (const b of binaries) await Deno.rename(`${dir}/.${b}.tmp`, `${dir}/${b}`);
  await Deno.writeTextFile(stamp, `${m.criToolsSum}\n`);
  say(`cri-tools ${m.criTools} built in ${dir}`);
  return dir;
}

async function installActionlint(): Promise<void> {
  const bin = `${cacheRoot()}/bin`;
  const stamp = `${bin}/actionlint.sum`;
  if ((await isFile(`${bin}/actionlint`)) && (await readStamp(stamp)) === ACTIONLINT.sum) {
    say(`actionlint ${ACTIONLINT.version} already in ${bin}`);
    return;
  }
  await download(ACTIONLINT.module, ACTIONLINT.version, ACTIONLINT.sum);
  await Deno.mkdir(bin, { recursive: true });
  say(`building actionlint ${ACTIONLINT.version}`);
  await go(["install", `${ACTIONLINT.pkg}@${ACTIONLINT.version}`], { env: { GOBIN: bin } });
  await Deno.writeTextFile(stamp, `${ACTIONLINT.sum}\n`);
  say(`actionlint ${ACTIONLINT.version} installed in ${bin}`);
}

async function main(args: readonly string[]): Promise<void> {
  const opts = parseArgs(args);
  const lines: string[] = [];
  for (const minor of opts.minors) {
    lines.push(`${minor} ${await installCriTools(k8sMinor(minor))}\n`);
  }
  if (opts.actionlint) await installActionlint();
  await Deno.stdout.write(encoder.encode(lines.join("")));
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
