/**
 * Resolves device paths on the host into the type/major/minor the spec needs: a CRI Device (a
 * node, or a directory of nodes as CRI-O allows), and every host device for a privileged
 * container (runc's rules: no symlinks, no /dev/pts, /dev/shm, /dev/mqueue, /dev/fd, console).
 * Deno refuses /dev to the daemon's scoped permissions, so stat(1) and find(1) answer then.
 */
import { InvalidArgumentError } from "../errors.ts";
import { denoHost, HELPER_BINARIES, type OciHost } from "./host.ts";
import { checkPermissions, type HostDevice, majorMinor } from "./spec/devices.ts";

interface Node {
  path: string;
  type: "c" | "b" | "d" | "other";
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
}

const SKIP_DIRS = ["pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev"];
const STAT_FORMAT = "%n|%F|%t|%T|%a|%u|%g";

/** One line of `stat -c '%n|%F|%t|%T|%a|%u|%g'` (major and minor in hex, mode in octal). */
export function parseStatLine(line: string): Node | undefined {
  const f = line.split("|");
  if (f.length < 7) return undefined;
  const [gid, uid, mode, minor, major, kind] = f.splice(-6).reverse();
  const type = kind === "character special file"
    ? "c"
    : kind === "block special file"
    ? "b"
    : kind === "directory"
    ? "d"
    : "other";
  return {
    path: f.join("|"),
    type,
    major: parseInt(major, 16),
    minor: parseInt(minor, 16),
    mode: parseInt(mode, 8),
    uid: Number(uid),
    gid: Number(gid),
  };
}

function fromInfo(path: string, st: Deno.FileInfo): Node {
  const { major, minor } = majorMinor(st.rdev ?? 0);
  const type = st.isCharDevice ? "c" : st.isBlockDevice ? "b" : st.isDirectory ? "d" : "other";
  return {
    path,
    type,
    major,
    minor,
    mode: (st.mode ?? 0) & 0o7777,
    uid: st.uid ?? 0,
    gid: st.gid ?? 0,
  };
}

/** The node at path, symlinks followed; undefined when it does not exist. */
async function node(path: string, host: OciHost): Promise<Node | undefined> {
  try {
    return fromInfo(path, await Deno.stat(path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
  const r = await host.run(HELPER_BINARIES.stat, ["-L", "-c", STAT_FORMAT, "--", path]);
  return r.code === 0 ? parseStatLine(new TextDecoder().decode(r.stdout).trim()) : undefined;
}

/** Device nodes under dir (not following symlinks, skipping the pseudo-filesystems). */
async function nodesUnder(dir: string, host: OciHost): Promise<Node[]> {
  try {
    return await walk(dir, 0);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
  const prune = SKIP_DIRS.flatMap((d, i) => [...(i ? ["-o"] : []), "-path", `${dir}/${d}`]);
  const r = await host.run(HELPER_BINARIES.find, [
    dir,
    "-maxdepth",
    "9",
    "(",
    ...prune,
    ")",
    "-prune",
    "-o",
    "(",
    "-type",
    "c",
    "-o",
    "-type",
    "b",
    ")",
    "-exec",
    HELPER_BINARIES.stat,
    "-c",
    STAT_FORMAT,
    "{}",
    "+",
  ]);
  return new TextDecoder().decode(r.stdout).split("\n").map(parseStatLine)
    .filter((n): n is Node =>
      !!n && (n.type === "c" || n.type === "b") && n.path !== `${dir}/console`
    );
}

async function walk(dir: string, depth: number): Promise<Node[]> {
  const out: Node[] = [];
  if (depth > 8) return out;
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isSymlink || (depth === 0 && (SKIP_DIRS.includes(e.name) || e.name === "console"))) {
      continue;
    }
    if (e.isDirectory) out.push(...await walk(path, depth + 1));
    else {
      const n = fromInfo(path, await Deno.lstat(path));
      if (n.type === "c" || n.type === "b") out.push(n);
    }
  }
  return out;
}

function toDevice(n: Node, at: { path: string; access: string }): HostDevice {
  const access = at.access;
  return {
    path: at.path,
    type: n.type as "c" | "b",
    major: n.major,
    minor: n.minor,
    fileMode: n.mode,
    uid: n.uid,
    gid: n.gid,
    access,
  };
}

/** A CRI Device: a node, or every node inside a directory. */
export async function resolveHostDevice(
  d: { hostPath?: string; containerPath?: string; permissions?: string },
  options: { host?: OciHost } = {},
): Promise<HostDevice[]> {
  const host = options.host ?? denoHost;
  const access = checkPermissions(d.permissions, `device ${d.hostPath}`);
  if (!d.hostPath?.startsWith("/") || !d.containerPath?.startsWith("/")) {
    throw new InvalidArgumentError(
      `device ${d.hostPath} -> ${d.containerPath}: paths must be absolute`,
    );
  }
  const n = await node(d.hostPath, host);
  if (!n) throw new InvalidArgumentError(`device ${d.hostPath} does not exist on the node`);
  if (n.type === "c" || n.type === "b") return [toDevice(n, { path: d.containerPath, access })];
  if (n.type !== "d") throw new InvalidArgumentError(`device ${d.hostPath} is not a device node`);
  const base = d.hostPath.replace(/\/+$/, "");
  return (await nodesUnder(base, host))
    .map((x) => toDevice(x, { path: d.containerPath + x.path.slice(base.length), access }))
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** Every device node under /dev, for a privileged container. */
export async function listHostDevices(options: { host?: OciHost } = {}): Promise<HostDevice[]> {
  const nodes = await nodesUnder("/dev", options.host ?? denoHost);
  return nodes.map((n) => toDevice(n, { path: n.path, access: "rwm" })).sort((a, b) =>
    a.path.localeCompare(b.path)
  );
}
