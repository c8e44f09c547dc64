/**
 * Writes a file so that readers see either the old or the new content, never a torn one, even if
 * the daemon is killed half-way: write a temporary file beside it, fsync it, rename it over the
 * target, fsync the directory.
 */

let seq = 0;

export async function atomicWrite(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const tmp = `${path}.tmp-${Deno.pid}-${++seq}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const f = await Deno.open(tmp, { write: true, createNew: true, mode: options.mode ?? 0o600 });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.sync();
  } catch (err) {
    f.close();
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  f.close();
  try {
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  const d = await Deno.open(dir, { read: true });
  try {
    await d.sync();
  } finally {
    d.close();
  }
}

/** Versioned JSON: every record carries `version`, so a future layout can migrate old files. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await atomicWrite(path, JSON.stringify(value) + "\n");
}

/** Removes temporary files a killed writer left in dir (name.tmp-PID-N). */
export async function removeStaleTemps(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      if (/\.tmp-\d+-\d+$/.test(e.name)) {
        await Deno.remove(`${dir}/${e.name}`, { recursive: true }).catch(() => {});
        n++;
      }
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}
