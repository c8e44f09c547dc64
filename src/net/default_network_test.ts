import { assertEquals } from "../testing/asserts.ts";
import { parseCniConfig } from "./cni_config.ts";
import { DEFAULT_NETWORK_FILE, defaultConflist, installDefaultNetwork } from "./default_network.ts";

Deno.test("installDefaultNetwork() writes CRI-O's bridge only into an empty dir", async () => {
  const dir = await Deno.makeTempDir();
  assertEquals(await installDefaultNetwork(dir), `${dir}/${DEFAULT_NETWORK_FILE}`);
  const net = parseCniConfig(
    DEFAULT_NETWORK_FILE,
    await Deno.readTextFile(`${dir}/${DEFAULT_NETWORK_FILE}`),
  );
  assertEquals(net.plugins.map((p) => p.type), ["bridge", "portmap"]);
  assertEquals(await installDefaultNetwork(dir), undefined);
  await Deno.remove(dir, { recursive: true });
  const other = await Deno.makeTempDir();
  await Deno.writeTextFile(`${other}/10-real.conf`, "{}");
  assertEquals(await installDefaultNetwork(other), undefined);
  assertEquals([...Deno.readDirSync(other)].length, 1);
  await Deno.remove(other, { recursive: true });
  assertEquals(JSON.parse(defaultConflist()).plugins[0].ipam.ranges, [[{
    subnet: "10.85.0.0/16",
  }]]);
});
