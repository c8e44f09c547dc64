import { assertEquals } from "../src/testing/asserts.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { buildListClient, goList } from "./go_list.ts";
import { grpcFrame } from "./http2_floor_server.ts";
import { startTransportFloors, type TransportFloor } from "./transport_floors.ts";

Deno.test("grpcFrame prefixes a message with the uncompressed flag and its length", () => {
  const framed = grpcFrame(new Uint8Array(300).fill(7));
  assertEquals([...framed.subarray(0, 5)], [0, 0, 0, 1, 44]);
  assertEquals(framed.length, 305);
  assertEquals(framed[304], 7);
});

function answers(pods: number, containers: number) {
  const { root } = loadSchema();
  const encode = (type: string, value: Record<string, unknown>) => {
    const t = root.lookupType(`runtime.v1.${type}`);
    return t.encode(t.fromObject(value)).finish();
  };
  return {
    ListPodSandbox: encode("ListPodSandboxResponse", {
      items: Array.from({ length: pods }, (_, i) => ({ id: `p${i}`, labels: { app: `a${i}` } })),
    }),
    ListContainers: encode("ListContainersResponse", {
      containers: Array.from({ length: containers }, (_, i) => ({ id: `c${i}`, state: 1 })),
    }),
  };
}

Deno.test({
  name: "both transport floors answer the Go client with the bytes given, then stop by PID",
  sanitizeResources: false,
  async fn() {
    const bin = await buildListClient(() => {});
    const dir = await Deno.makeTempDir({ prefix: "transport-floors-test-" });
    let floors: TransportFloor[] = [];
    try {
      floors = await startTransportFloors(dir, {
        answers: answers(3, 40),
        goBin: bin,
        denoFlags: [],
        mallocArenas: "2",
      });
      assertEquals(floors.map((f) => f.name), ["http2", "go"]);
      for (const f of floors) {
        const p = await goList(bin, { socket: f.socket, method: "ListPodSandbox", calls: 2 });
        const c = await goList(bin, { socket: f.socket, method: "ListContainers", calls: 2 });
        assertEquals([f.name, p.items, c.items], [f.name, 3, 40]);
        // Anything else is UNIMPLEMENTED, not an empty answer.
        const version = await goList(bin, { socket: f.socket, method: "Version", calls: 1 })
          .then(() => "answered", (e: Error) => e.message);
        assertEquals([f.name, /Unimplemented/.test(version)], [f.name, true], version);
      }
    } finally {
      await Promise.all(floors.map((f) => f.stop()));
      await Deno.remove(dir, { recursive: true });
    }
    for (const f of floors) {
      assertEquals(await Deno.stat(`/proc/${f.pid}`).then(() => true, () => false), false);
    }
  },
});
