import { assert, assertEquals } from "../src/testing/asserts.ts";
import { Logger } from "../src/log.ts";
import { loadSchema } from "../src/cri/schema.ts";
import { CriServer } from "../src/cri/server.ts";
import { buildListClient, goList } from "./go_list.ts";

function pod(i: number) {
  return Object.freeze({
    id: `p${i}`.padEnd(64, "0"),
    metadata: { name: `pod-${i}`, uid: `u${i}`, namespace: "bench", attempt: 0 },
    state: 0,
    createdAt: String(1764370000000000000n + BigInt(i)),
    labels: { app: `a${i}` },
    annotations: {},
    runtimeHandler: "",
  });
}

function container(i: number) {
  return Object.freeze({
    id: `c${i}`.padEnd(64, "0"),
    podSandboxId: `p${i % 7}`.padEnd(64, "0"),
    metadata: { name: `c${i}`, attempt: 1 },
    image: { image: "busybox", annotations: {} },
    imageRef: "sha256:" + "a".repeat(64),
    state: 1,
    createdAt: "1764370000123456789",
    labels: { "io.kubernetes.container.name": `c${i}` },
    annotations: { "io.kubernetes.container.hash": String(i) },
  });
}

// The Go client decodes what the daemon's encoder writes (cached item bytes concatenated): the
// same as the kubelet's decoder, so this also checks the encoding against Go's protobuf.
Deno.test({
  name: "the Go List client decodes the daemon's list answers and times each call",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "go-list-test-" });
    const pods = Array.from({ length: 110 }, (_, i) => pod(i));
    const containers = Array.from({ length: 330 }, (_, i) => container(i));
    const server = new CriServer({
      socket: `${dir}/crio.sock`,
      schema: loadSchema(),
      handlers: {
        RuntimeService: {
          ListPodSandbox: () => Promise.resolve({ items: pods }),
          ListContainers: () => Promise.resolve({ containers }),
        },
        ImageService: {},
      },
      log: new Logger({ sink: { write() {} } }),
      maxRecvBytes: 1 << 20,
      maxSendBytes: 16 << 20,
    });
    await server.listen();
    try {
      const bin = await buildListClient(() => {});
      const socket = `${dir}/crio.sock`;
      const p = await goList(bin, { socket, method: "ListPodSandbox", calls: 5 });
      assertEquals(p.items, 110);
      assertEquals(p.ms.length, 5);
      assert(p.ms.every((ms, i) => ms >= p.arrivedMs[i] && p.arrivedMs[i] > 0), `${p.ms}`);
      const c = await goList(bin, { socket, method: "ListContainers", calls: 3 });
      assertEquals(c.items, 330);
      assertEquals(c.ms.length, 3);
      const refused = await goList(bin, { socket: `${dir}/none.sock`, method: "Version", calls: 1 })
        .then(() => undefined, (err) => String(err));
      assert(refused?.includes("none.sock"), `an absent socket is named: ${refused}`);
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
