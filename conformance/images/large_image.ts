/**
 * A large image for durability tests and benchmarks: `layers` layers of `mib` MiB of random bytes
 * each (incompressible, so the compressed blobs are as large), plus a throttling proxy that serves
 * a registry's blobs slowly, so a test can act while a pull is under way.
 */
import { buildLayer, type Layer } from "./layer.ts";
import { buildImage, type BuiltImage } from "./oci.ts";

export async function buildLargeImage(o: { layers: number; mib: number }): Promise<BuiltImage> {
  const layers: Layer[] = [];
  for (let i = 0; i < o.layers; i++) {
    const data = new Uint8Array(o.mib << 20);
    for (let off = 0; off < data.length; off += 65536) {
      crypto.getRandomValues(data.subarray(off, off + 65536));
    }
    layers.push(await buildLayer([{ type: "file", path: `blob-${i}`, data }]));
  }
  return await buildImage(layers);
}

export interface Throttle {
  /** `127.0.0.1:PORT`: use it in place of the registry's host. */
  host: string;
  /** Bytes per second for blob bodies; change it at any time (0 = unthrottled). */
  rate: number;
  stop(): Promise<void>;
}

/** A loopback proxy to `upstream` (a `host:port` on loopback) that meters blob bodies. */
export function startThrottle(upstream: string, rate: number): Throttle {
  const t: Throttle = { host: "", rate, stop: () => server.shutdown() };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const res = await fetch(`http://${upstream}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      redirect: "manual",
      signal: req.signal,
    }).catch(() => undefined);
    if (!res) return new Response("upstream gone", { status: 502 });
    if (!url.pathname.includes("/blobs/") || !res.body) return res;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done || !value) return ctl.close();
        if (t.rate > 0) await new Promise((r) => setTimeout(r, (value.length / t.rate) * 1000));
        ctl.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: res.status, headers: res.headers });
  });
  t.host = `127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  return t;
}
