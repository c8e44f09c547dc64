/**
 * The bench's CNI networks: one bridge network per runtime, the same plugins (bridge + host-local +
 * portmap, as CRI-O's default) with its own bridge name, subnet and IPAM state, so neither runtime
 * sees the other's pods and nothing collides with the host's or the conformance harness's bridges.
 */

export interface BenchNetwork {
  name: string;
  /** Linux interface names are at most 15 bytes. */
  bridge: string;
  subnet: string;
}

export const NETWORKS = {
  "crio-deno": { name: "crio-bench", bridge: "cni-bench-crio", subnet: "10.91.0.0/16" },
  containerd: { name: "containerd-bench", bridge: "cni-bench-ctd", subnet: "10.92.0.0/16" },
} as const satisfies Record<string, BenchNetwork>;

export function conflist(net: BenchNetwork, options: { ipamDir: string }): string {
  if (new TextEncoder().encode(net.bridge).length > 15) {
    throw new Error(`bridge name ${net.bridge} is longer than 15 bytes`);
  }
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: net.name,
      plugins: [
        {
          type: "bridge",
          bridge: net.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: options.ipamDir,
            routes: [{ dst: "0.0.0.0/0" }],
            ranges: [[{ subnet: net.subnet }]],
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

/** Deletes a bench bridge (the bridge plugin creates it on first ADD and never removes it). */
export async function removeBridge(net: BenchNetwork): Promise<void> {
  await new Deno.Command("ip", { args: ["link", "del", net.bridge], stderr: "null" }).output();
}
