/**
 * Root filesystem pieces for the test images: a busybox base like the
 * upstream busybox images (one binary plus a hard link per applet, and the C library it
 * links), account files, and small shell programs standing in for what busybox lacks.
 *
 * The busybox is Debian's dynamic build, unpacked by vm/provision.sh: like upstream's, its sh
 * looks commands up on PATH and execs them. Debian's busybox-static runs applets in-process, so
 * a masked /bin/ls (critest's MaskedPaths spec) would still run.
 */

import type { FileEntry, TarEntry } from "./tar_writer.ts";

export const BUSYBOX = "/usr/local/libexec/crio-deno/busybox";

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell?: string;
  gecos?: string;
}

export interface Group {
  name: string;
  gid: number;
  members?: string[];
}

/** The accounts busybox images ship; www-data (33) is one critest's user images name. */
export const BASE_ACCOUNTS: readonly Account[] = [
  { name: "root", uid: 0, gid: 0, home: "/root", shell: "/bin/sh", gecos: "root" },
  { name: "daemon", uid: 1, gid: 1, home: "/usr/sbin" },
  { name: "bin", uid: 2, gid: 2, home: "/bin" },
  { name: "sys", uid: 3, gid: 3, home: "/dev" },
  { name: "sync", uid: 4, gid: 100, home: "/bin", shell: "/bin/sync" },
  { name: "mail", uid: 8, gid: 8, home: "/var/spool/mail" },
  { name: "www-data", uid: 33, gid: 33, home: "/var/www" },
  { name: "operator", uid: 37, gid: 37, home: "/var" },
  { name: "nobody", uid: 65534, gid: 65534, home: "/home" },
];

const GROUP_TABLE = "root:0 daemon:1 bin:2 sys:3 adm:4 tty:5 disk:6 lp:7 mail:8 kmem:9 " +
  "wheel:10 cdrom:11 dialout:18 floppy:19 video:28 audio:29 tape:32 www-data:33 operator:37 " +
  "utmp:43 plugdev:46 staff:50 lock:54 netdev:82 users:100 nogroup:65534";

export const BASE_GROUPS: readonly Group[] = GROUP_TABLE.split(" ").map((pair) => {
  const [name, gid] = pair.split(":");
  return { name, gid: Number(gid) };
});

export function passwdFile(accounts: readonly Account[]): string {
  return accounts.map((a) =>
    [a.name, "x", a.uid, a.gid, a.gecos ?? a.name, a.home, a.shell ?? "/bin/false"].join(":") +
    "\n"
  ).join("");
}

export function groupFile(groups: readonly Group[]): string {
  return groups.map((g) => `${g.name}:x:${g.gid}:${(g.members ?? []).join(",")}\n`).join("");
}

export function shellScript(path: string, body: string): FileEntry {
  return { type: "file", path, mode: 0o755, data: `#!/bin/sh\n${body.trim()}\n` };
}

/** Applet paths (`bin/sh`, `usr/bin/wget`, ...) as this busybox build installs them. */
export async function busyboxApplets(busybox = BUSYBOX): Promise<string[]> {
  const out = await new Deno.Command(busybox, {
    args: ["--list-full"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`${busybox} --list-full failed`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
}

// Debian's busybox-static leaves out pgrep and ipcs, which critest runs in its
// busybox containers (exec timeout check, host IPC check); these cover the
// forms it uses.
const PGREP = `
# pgrep NAME: PIDs whose process name contains NAME, one per line; 1 if none.
[ $# -eq 1 ] || { echo "usage: pgrep NAME" >&2; exit 2; }
status=1
for dir in /proc/[0-9]*; do
  pid=\${dir#/proc/}
  [ "$pid" = "$$" ] && continue
  { read -r name < "$dir/comm"; } 2>/dev/null || continue
  case "$name" in *"$1"*) echo "$pid"; status=0 ;; esac
done
exit $status`;

const IPCS = `
# ipcs [-m]: shared memory segments of this IPC namespace, from /proc.
case "$1" in "" | -m) ;; *) echo "ipcs: only -m is supported" >&2; exit 1 ;; esac
echo
echo "------ Shared Memory Segments --------"
echo "key        shmid      owner      perms      bytes      nattch     status"
[ -r /proc/sysvipc/shm ] || exit 0
awk 'NR > 1 { k = $1 < 0 ? $1 + 4294967296 : $1
  printf "0x%08x %-10s %-10s %-10s %-10s %-10s\\n", k, $2, $8, $3, $4, $7 }' /proc/sysvipc/shm
echo`;

const DIRS: readonly [string, number][] = [
  ["bin", 0o755],
  ["dev", 0o755],
  ["etc", 0o755],
  ["home", 0o755],
  ["proc", 0o555],
  ["root", 0o700],
  ["sbin", 0o755],
  ["sys", 0o555],
  ["tmp", 0o1777],
  ["usr", 0o755],
  ["usr/bin", 0o755],
  ["usr/sbin", 0o755],
  ["usr/local", 0o755],
  ["usr/local/bin", 0o755],
  ["usr/local/sbin", 0o755],
  ["var", 0o755],
  ["var/run", 0o755],
  ["var/spool", 0o755],
  ["var/spool/mail", 0o755],
  ["var/www", 0o755],
];

export interface BusyboxRootfsOptions {
  busybox?: string;
  accounts?: readonly Account[];
  groups?: readonly Group[];
}

/** The shared libraries a binary loads (ldd), each at the path the loader looks for it. */
export async function sharedLibraries(binary: string): Promise<TarEntry[]> {
  const out = await new Deno.Command("ldd", { args: [binary], stdout: "piped", stderr: "null" })
    .output();
  // A static binary: ldd says so and fails; there is nothing to ship.
  if (out.code !== 0) return [];
  const paths = new TextDecoder().decode(out.stdout).split("\n").flatMap((line) => {
    const m = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/);
    return m ? [m[1]] : [];
  });
  const entries: TarEntry[] = [];
  const dirs = new Set<string>();
  for (const abs of paths) {
    const rel = abs.slice(1);
    for (let i = rel.indexOf("/"); i > 0; i = rel.indexOf("/", i + 1)) dirs.add(rel.slice(0, i));
    // Regular files, not the host's symlinks, whose targets the image might not have.
    entries.push({ type: "file", path: rel, mode: 0o755, data: await Deno.readFile(abs) });
  }
  return [
    ...[...dirs].sort().map((path): TarEntry => ({ type: "dir", path, mode: 0o755 })),
    ...entries,
  ];
}

/** Entries of the shared base layer. */
export async function busyboxRootfs(opts: BusyboxRootfsOptions = {}): Promise<TarEntry[]> {
  const busybox = opts.busybox ?? BUSYBOX;
  const [binary, applets] = await Promise.all([Deno.readFile(busybox), busyboxApplets(busybox)]);
  const entries: TarEntry[] = DIRS.map(([path, mode]) => ({ type: "dir", path, mode }));
  entries.push({ type: "file", path: "bin/busybox", mode: 0o755, data: binary });
  const known = new Set(entries.map((e) => e.path));
  entries.push(...(await sharedLibraries(busybox)).filter((e) => !known.has(e.path)));
  for (const applet of applets) {
    if (applet === "bin/busybox") continue;
    // Hard links, as upstream busybox images have them: masking one applet path (critest's
    // MaskedPaths spec masks /bin/ls) must not mask the binary every other applet runs.
    entries.push({ type: "hardlink", path: applet, target: "bin/busybox" });
  }
  const names = new Set(applets.map((a) => a.slice(a.lastIndexOf("/") + 1)));
  if (!names.has("pgrep")) entries.push(shellScript("usr/bin/pgrep", PGREP));
  if (!names.has("ipcs")) entries.push(shellScript("usr/bin/ipcs", IPCS));
  entries.push(
    { type: "file", path: "etc/passwd", data: passwdFile(opts.accounts ?? BASE_ACCOUNTS) },
    { type: "file", path: "etc/group", data: groupFile(opts.groups ?? BASE_GROUPS) },
  );
  return entries;
}
