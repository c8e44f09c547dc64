/**
 * A bare node's pod network: when network_dir holds no CNI config at all, `crio` (the serve path)
 * installs CRI-O's bridge network (cni0, 10.85.0.0/16) plus portmap for host ports. It is named
 * 11-… so that a real network installed later as 10-… sorts first and wins; an existing config of
 * any name is never touched.
 */
import { atomicWrite } from "../util/atomic_write.ts";

export const DEFAULT_NETWORK_FILE = "11-crio-ipv4-bridge.conflist";

export function defaultConflist(): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "crio",
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            routes: [{ dst: "0.0.0.0/0" }],
            ranges: [[{ subnet: "10.85.0.0/16" }]],
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  ) + "\n";
}

/** Writes the default conflist when dir has no *.conf, *.conflist or *.json; returns its path. */
export async function installDefaultNetwork(dir: string): Promise<string | undefined> {
  const d = dir.replace(/\/$/, "");
  await Deno.mkdir(d, { recursive: true });
  for await (const e of Deno.readDir(d)) {
    if (/\.(conf|conflist|json)$/.test(e.name)) return undefined;
  }
  const path = `${d}/${DEFAULT_NETWORK_FILE}`;
  await atomicWrite(path, defaultConflist(), { mode: 0o644 });
  return path;
}
