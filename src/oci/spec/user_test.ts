import { assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { SupplementalGroupsPolicy } from "../../cri/gen/api.ts";
import { parseGroup, parsePasswd, resolveUser, type UserRequest } from "./user.ts";

const db = {
  passwd: parsePasswd([
    "root:x:0:0:root:/root:/bin/sh",
    "# comment",
    "default-user:x:1000:1000::/home/default:/bin/sh",
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
    "broken:x:abc:0::/:/bin/sh",
  ].join("\n")),
  group: parseGroup([
    "root:x:0:",
    "default-user:x:1000:",
    "group-defined-in-image:x:50000:default-user,other",
    "wheel:x:10:root",
  ].join("\r\n")),
};

Deno.test("resolveUser() follows the CRI fields, then the image user", () => {
  const cases: [string, UserRequest, { uid: number; gid: number; additionalGids: number[] }][] = [
    ["empty means root", {}, { uid: 0, gid: 0, additionalGids: [0, 10] }],
    ["image user by name", { imageUser: "default-user" }, {
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 50000],
    }],
    ["image uid:gid", { imageUser: "1000:10" }, {
      uid: 1000,
      gid: 10,
      additionalGids: [10, 50000],
    }],
    ["image name:group", { imageUser: "nobody:wheel" }, {
      uid: 65534,
      gid: 10,
      additionalGids: [10],
    }],
    ["uid unknown to passwd", { imageUser: "4242" }, { uid: 4242, gid: 0, additionalGids: [0] }],
    ["run_as_user wins over image", { imageUser: "nobody", runAsUser: { value: 1000 } }, {
      uid: 1000,
      gid: 1000,
      additionalGids: [1000, 50000],
    }],
    ["run_as_username wins over run_as_user", {
      runAsUser: { value: 0 },
      runAsUsername: "default-user",
    }, { uid: 1000, gid: 1000, additionalGids: [1000, 50000] }],
    ["run_as_group", { runAsUser: { value: 1000 }, runAsGroup: { value: "2000" } }, {
      uid: 1000,
      gid: 2000,
      additionalGids: [2000, 50000],
    }],
    ["merge policy adds image groups and supplemental", {
      runAsUser: { value: 1000 },
      supplementalGroups: [1234, "5678"],
    }, { uid: 1000, gid: 1000, additionalGids: [1000, 50000, 1234, 5678] }],
    ["strict policy leaves image groups out", {
      runAsUser: { value: 1000 },
      supplementalGroups: [1234],
      supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict,
    }, { uid: 1000, gid: 1000, additionalGids: [1000, 1234] }],
  ];
  for (const [name, req, want] of cases) {
    const got = resolveUser(req, db);
    assertEquals({ uid: got.uid, gid: got.gid, additionalGids: got.additionalGids }, want, name);
  }
});

Deno.test("resolveUser() refuses unknown names, overflowing ids and a lone run_as_group", () => {
  const cases: [UserRequest, string][] = [
    [{ imageUser: "ghost" }, "not in the image's /etc/passwd"],
    [{ imageUser: "root:ghosts" }, "not in the image's /etc/group"],
    [{ imageUser: "4294967296:4294967296" }, "out of range"],
    [{ imageUser: "2147483648" }, "out of range"],
    [{ runAsUser: { value: -1 } }, "not a valid id"],
    [{ runAsUser: { value: 0 }, supplementalGroups: [-5] }, "not a valid id"],
    [{ runAsGroup: { value: 1 } }, "run_as_group is set without run_as_user"],
    [{ supplementalGroupsPolicy: 7 as SupplementalGroupsPolicy }, "not supported"],
  ];
  for (const [req, msg] of cases) {
    assertThrows(() => resolveUser(req, db), InvalidArgumentError, msg);
  }
});

Deno.test("parsePasswd() and parseGroup() skip malformed lines", () => {
  assertEquals(db.passwd.map((p) => p.name), ["root", "default-user", "nobody"]);
  assertEquals(db.group.find((g) => g.gid === 50000)?.members, ["default-user", "other"]);
});
