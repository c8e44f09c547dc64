/**
 * The container's user: the image's `User` or the CRI run_as_user / run_as_username, resolved
 * against the image's /etc/passwd and /etc/group (already read, bounded, by user_db.ts), plus
 * run_as_group and the supplemental groups under their policy (Merge adds the groups the image
 * lists the user in; Strict does not). Pure functions, so every rule is table-tested.
 */
import { InvalidArgumentError } from "../../errors.ts";
import type { Int64, Int64Value } from "../../cri/gen/api.ts";
import { SupplementalGroupsPolicy } from "../../cri/gen/api.ts";

/** Kubernetes validates run_as_user and friends as int32; larger ids are refused (CVE-2024-40635). */
export const MAX_ID = 2147483647;

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** The primary gid first, as CRI-O reports it in ContainerStatus.user. */
  additionalGids: number[];
  /** Home directory from /etc/passwd, when the user has an entry. */
  home?: string;
}

function parseId(text: string, what: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_ID) {
    throw new InvalidArgumentError(`${what} ${text} is out of range (0-${MAX_ID})`);
  }
  return n;
}

/** A CRI int64 id (number or decimal string) checked against the int32 range. */
export function idValue(v: Int64 | undefined, what: string): number {
  const text = String(v ?? 0);
  const n = /^-/.test(text) ? undefined : parseId(text, what);
  if (n === undefined) throw new InvalidArgumentError(`${what} ${text} is not a valid id`);
  return n;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = /^\d+$/.test(f[2]) ? Number(f[2]) : NaN;
    const gid = /^\d+$/.test(f[3]) ? Number(f[3]) : NaN;
    if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) continue;
    out.push({ name: f[0], uid, gid, home: f[5] });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const gid = /^\d+$/.test(f[2]) ? Number(f[2]) : NaN;
    if (!Number.isSafeInteger(gid)) continue;
    out.push({ name: f[0], gid, members: f[3].split(",").filter((m) => m !== "") });
  }
  return out;
}

export interface UserRequest {
  /** The image config's User ("", "uid", "name", "uid:gid", "name:group"). */
  imageUser?: string;
  runAsUser?: Int64Value;
  runAsUsername?: string;
  runAsGroup?: Int64Value;
  supplementalGroups?: Int64[];
  supplementalGroupsPolicy?: SupplementalGroupsPolicy;
}

/** Which user string applies: the CRI username, then the CRI uid, then the image's. */
export function userString(req: UserRequest): string {
  if (req.runAsGroup && !req.runAsUser && !req.runAsUsername) {
    throw new InvalidArgumentError("run_as_group is set without run_as_user or run_as_username");
  }
  if (req.runAsUsername) return req.runAsUsername;
  if (req.runAsUser) return String(idValue(req.runAsUser.value, "run_as_user"));
  return req.imageUser ?? "";
}

export function resolveUser(
  req: UserRequest,
  db: { passwd: PasswdEntry[]; group: GroupEntry[] },
): ResolvedUser {
  const [userPart, groupPart] = userString(req).split(":", 2) as [string, string | undefined];
  const { uid, entry } = findUser(userPart || "0", db.passwd);
  let gid = entry?.gid ?? 0;
  if (groupPart) gid = findGroup(groupPart, db.group);
  if (req.runAsGroup) gid = idValue(req.runAsGroup.value, "run_as_group");

  const policy = req.supplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge;
  if (policy !== SupplementalGroupsPolicy.Merge && policy !== SupplementalGroupsPolicy.Strict) {
    throw new InvalidArgumentError(`supplemental_groups_policy ${policy} is not supported`);
  }
  const gids = [gid];
  if (policy === SupplementalGroupsPolicy.Merge && entry) {
    for (const g of db.group) if (g.members.includes(entry.name)) gids.push(g.gid);
  }
  for (const g of req.supplementalGroups ?? []) gids.push(idValue(g, "supplemental group"));
  return { uid, gid, additionalGids: [...new Set(gids)], home: entry?.home };
}

function findUser(part: string, passwd: PasswdEntry[]): { uid: number; entry?: PasswdEntry } {
  const uid = parseId(part, "uid");
  if (uid !== undefined) return { uid, entry: passwd.find((p) => p.uid === uid) };
  const entry = passwd.find((p) => p.name === part);
  if (!entry) {
    throw new InvalidArgumentError(
      `user ${JSON.stringify(part)} is not in the image's /etc/passwd`,
    );
  }
  if (entry.uid > MAX_ID || entry.gid > MAX_ID) {
    throw new InvalidArgumentError(`user ${JSON.stringify(part)} has an id out of range`);
  }
  return { uid: entry.uid, entry };
}

function findGroup(part: string, groups: GroupEntry[]): number {
  const gid = parseId(part, "gid");
  if (gid !== undefined) return gid;
  const entry = groups.find((g) => g.name === part);
  if (!entry) {
    throw new InvalidArgumentError(
      `group ${JSON.stringify(part)} is not in the image's /etc/group`,
    );
  }
  if (entry.gid > MAX_ID) {
    throw new InvalidArgumentError(`group ${JSON.stringify(part)} has an id out of range`);
  }
  return entry.gid;
}
