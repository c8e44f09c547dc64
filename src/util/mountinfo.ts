/**
 * Which paths are mount points now (a seam: tests pass their own). Deno refuses to read
 * /proc/<pid>/mountinfo and /proc/mounts without --allow-all, so the host implementation asks
 * util-linux's findmnt, which reads the same table.
 */

export type MountPoints = () => Promise<Set<string>>;

export const FINDMNT = "/usr/bin/findmnt";

/** findmnt --raw output: one target a line, unusual bytes as \xHH. */
export function parseFindmnt(text: string): Set<string> {
  return new Set(
    text.split("\n").filter(Boolean).map((p) =>
      p.replace(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)))
    ),
  );
}

export const hostMountPoints: MountPoints = async () => {
  const out = await new Deno.Command(FINDMNT, {
    args: ["--raw", "--noheadings", "--output", "TARGET"],
    stdin: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`findmnt failed: ${new TextDecoder().decode(out.stderr)}`);
  return parseFindmnt(new TextDecoder().decode(out.stdout));
};
