import { assert, assertEquals, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError } from "../../errors.ts";
import { defaultConfig } from "../../config/options.ts";
import {
  buildCapabilities,
  capabilitiesFromMask,
  CAPABILITY_NAMES,
  type CapabilityRequest,
} from "./capabilities.ts";

const defaults = defaultConfig().runtime.default_capabilities;
const host = { lastCap: 40 };
const sorted = (xs: string[]) => [...xs].sort();

Deno.test("buildCapabilities() applies defaults, add, drop and ALL like CRI-O", () => {
  const d = defaults.map((c) => `CAP_${c}`);
  const cases: [string, CapabilityRequest, string[]][] = [
    ["defaults", { defaults }, d],
    ["add by short name", { defaults, add: ["sys_admin"] }, [...d, "CAP_SYS_ADMIN"]],
    ["drop", { defaults, drop: ["CAP_KILL", "chown"] }, d.filter((c) => !/KILL|CHOWN/.test(c))],
    ["drop ALL then add", { defaults, drop: ["ALL"], add: ["NET_RAW"] }, ["CAP_NET_RAW"]],
    ["add ALL then drop", { defaults, add: ["all"], drop: ["CHOWN"] }, CAPABILITY_NAMES.slice(1)],
    ["drop ALL", { defaults, drop: ["ALL"] }, []],
    ["privileged ignores drop", { defaults, privileged: true, drop: ["ALL"] }, CAPABILITY_NAMES],
  ];
  for (const [name, req, want] of cases) {
    const { capabilities: c } = buildCapabilities(req, host);
    assertEquals(sorted(c.bounding), sorted(want), name);
    assertEquals(c.effective, c.bounding, name);
    assertEquals(c.permitted, c.bounding, name);
    assertEquals([c.inheritable, c.ambient], [[], []], name);
  }
});

Deno.test("buildCapabilities() honours the kernel's last cap and the daemon's bounding set", () => {
  const all = buildCapabilities({ defaults, add: ["ALL"] }, { lastCap: 37 }).capabilities.bounding;
  assertEquals(all.length, 38);
  const bounding = new Set(CAPABILITY_NAMES.filter((c) => c !== "CAP_SYS_RESOURCE"));
  const r = buildCapabilities({ defaults, add: ["SYS_RESOURCE"] }, { lastCap: 40, bounding });
  assert(!r.capabilities.bounding.includes("CAP_SYS_RESOURCE"));
  assertEquals(r.warnings.length, 1);
  const priv = buildCapabilities({ defaults, privileged: true }, { lastCap: 40, bounding });
  assertEquals([priv.capabilities.bounding.length, priv.warnings], [40, []]);
});

Deno.test("buildCapabilities() sets inheritable only when asked, and refuses unknown names", () => {
  const c = buildCapabilities({ defaults, addInheritable: true }, host).capabilities;
  assertEquals(c.inheritable, c.bounding);
  assertThrows(
    () => buildCapabilities({ defaults, add: ["FLY"] }, host),
    InvalidArgumentError,
    "FLY",
  );
  assertThrows(() => buildCapabilities({ defaults, drop: ["X"] }, host), InvalidArgumentError);
});

Deno.test("capabilitiesFromMask() decodes /proc status masks", () => {
  const set = capabilitiesFromMask("000001fffeffffff");
  assertEquals(set.size, 40);
  assert(!set.has("CAP_SYS_RESOURCE"));
  assertEquals([...capabilitiesFromMask("0000000000000001")], ["CAP_CHOWN"]);
});
