import { assertEquals } from "../../testing/asserts.ts";
import { infraArgs, infraUser } from "./infra_container.ts";

Deno.test("infraUser(): the image's numeric user and group; root for names or none", () => {
  assertEquals(infraUser({ User: "65535:65535" }), { uid: 65535, gid: 65535 });
  assertEquals(infraUser({ User: "1000" }), { uid: 1000, gid: 1000 });
  assertEquals(infraUser({ User: "nobody" }), { uid: 0, gid: 0 });
  assertEquals(infraUser({}), { uid: 0, gid: 0 });
});

Deno.test("infraArgs(): pause_command wins; empty takes the image's entrypoint and command", () => {
  const image = { Entrypoint: ["/pause"], Cmd: ["-v"] };
  assertEquals(infraArgs("/bin/pause", image), ["/bin/pause"]);
  assertEquals(infraArgs("", image), ["/pause", "-v"]);
  assertEquals(infraArgs("", {}), []);
});
