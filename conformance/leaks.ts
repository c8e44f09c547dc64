/**
 * The harness's mount leak check. critest's mount-propagation specs make host mounts under
 * /tmp/test<hex>/ and leave them when the spec fails before its own cleanup; those are critest's
 * and are removed quietly. A mount under the daemon's own directory that outlives the daemon is a
 * leak of the daemon under test and fails the run. Mounts elsewhere belong to other processes on
 * the machine and are none of the harness's business.
 */

/** Deno refuses to read /proc/self/mountinfo without --allow-all, so ask findmnt. */
export async function mountTargets(): Promise<Set<string>> {
  const out = await new Deno.Command("findmnt", {
    args: ["-rn", "-o", "TARGET"],
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error("findmnt failed");
  // findmnt -r escapes blanks and odd characters as \xNN.
  const unescape = (s: string) =>
    s.replace(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
  return new Set(new TextDecoder().decode(out.stdout).split("\n").filter(Boolean).map(unescape));
}

/**
 * Unmounts everything left under dir (a test daemon's pinned namespaces dir, and what its pods
 * left), deepest first, so the dir can be removed. For tests that own dir.
 */
export async function unmountUnder(dir: string): Promise<void> {
  for (let round = 0; round < 4; round++) {
    const left = [...await mountTargets()].filter((m) => m.startsWith(`${dir}/`));
    if (!left.length) return;
    for (const m of left.sort().reverse()) {
      await new Deno.Command("umount", { args: [m], stderr: "null" }).output();
    }
  }
}

const CRITEST_HOST_DIR = /^\/tmp\/test[0-9a-f]+\//;

export interface LeakReport {
  /** critest's own leftovers, unmounted. */
  removedCritest: number;
  /** Mounts that appeared during the run and are still there: the daemon's leaks. */
  leaked: string[];
}

export async function checkMountLeaks(
  before: Set<string>,
  options: { daemonDir: string },
): Promise<LeakReport> {
  const ours = (t: string) => t === options.daemonDir || t.startsWith(`${options.daemonDir}/`);
  const now = [...(await mountTargets())].filter((t) =>
    !before.has(t) && (ours(t) || CRITEST_HOST_DIR.test(t))
  );
  // Deepest first, so nested mounts come off before their parents.
  now.sort((a, b) => b.length - a.length);
  const report: LeakReport = { removedCritest: 0, leaked: [] };
  for (const target of now) {
    if (!CRITEST_HOST_DIR.test(target)) {
      report.leaked.push(target);
      continue;
    }
    const r = await new Deno.Command("umount", { args: [target], stderr: "null" }).output();
    if (!r.success) {
      report.leaked.push(target);
      continue;
    }
    report.removedCritest++;
    // The spec's temporary dir goes too, now that nothing is mounted in it.
    const dir = CRITEST_HOST_DIR.exec(target)![0];
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return report;
}
