/**
 * Runs a snippet of TypeScript in a fresh Deno with only the given permission flags (plus reads
 * of the repository), for tests that must hold under the daemon's scoped permissions rather than
 * the test runner's broad ones. `{{repo}}` in the source is the repository's file URL.
 */
const REPO = new URL("../../", import.meta.url);

export async function runScoped(
  source: string,
  flags: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "scoped-run-" });
  try {
    const script = `${dir}/main.ts`;
    await Deno.writeTextFile(script, source.replaceAll("{{repo}}", REPO.href));
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--no-check",
        `--allow-read=${REPO.pathname},${dir}`,
        ...flags,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
