/**
 * Reads the image's /etc/passwd and /etc/group through the rootfs resolver, each bounded, so a
 * 1 GiB /etc/group or an /etc/passwd -> /dev/zero fails fast instead of filling the daemon's
 * memory (CVE-2026-47262, CVE-2024-9676).
 */
import { readFileInRoot } from "../rootfs_path.ts";
import { type GroupEntry, parseGroup, parsePasswd, type PasswdEntry } from "./user.ts";

/** Far above any real image's files; only the hostile ones reach it. */
export const USER_DB_MAX_BYTES = 4 << 20;

export interface UserDb {
  passwd: PasswdEntry[];
  group: GroupEntry[];
}

export async function readUserDb(
  rootfs: string,
  options: { maxBytes?: number } = {},
): Promise<UserDb> {
  const maxBytes = options.maxBytes ?? USER_DB_MAX_BYTES;
  const decode = (b: Uint8Array | undefined) => b ? new TextDecoder().decode(b) : "";
  const [passwd, group] = await Promise.all([
    readFileInRoot(rootfs, "/etc/passwd", { maxBytes }),
    readFileInRoot(rootfs, "/etc/group", { maxBytes }),
  ]);
  return { passwd: parsePasswd(decode(passwd)), group: parseGroup(decode(group)) };
}
