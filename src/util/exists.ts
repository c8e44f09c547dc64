/** Whether anything (file, dir, link, even a dangling one) is at path; lstat, no following. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
