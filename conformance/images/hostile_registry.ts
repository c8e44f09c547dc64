/**
 * A lying registry on loopback, for the hostile cases a real registry refuses to store
 * (security.md §4 items 9–12): malformed digests in manifests, blobs whose bytes do not match,
 * manifests whose Content-Type or digest is not what was asked for, redirects to another host and
 * token realms elsewhere. It serves exactly the routes it is given and records every request with
 * its Authorization header, so a test can prove what was (not) asked and (not) sent.
 */

export interface Route {
  status?: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface SeenRequest {
  host: string;
  path: string;
  authorization: string | null;
}

export interface LyingServer {
  /** `127.0.0.1:PORT` (or `localhost:PORT` for the "other host" of redirects). */
  host: string;
  routes: Map<string, Route | ((req: Request) => Route)>;
  seen: SeenRequest[];
  stop(): Promise<void>;
}

/** Starts a server answering `routes` (by path + query); anything else is a 404. */
export function startLyingServer(hostname: "127.0.0.1" | "localhost" = "127.0.0.1"): LyingServer {
  const routes = new Map<string, Route | ((req: Request) => Route)>();
  const seen: SeenRequest[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const path = url.pathname + url.search;
    seen.push({ host: url.host, path, authorization: req.headers.get("authorization") });
    const r = routes.get(path) ?? routes.get(url.pathname);
    const route = typeof r === "function" ? r(req) : r;
    if (!route) return new Response("not found", { status: 404 });
    const body = typeof route.body === "string" ? new TextEncoder().encode(route.body) : route.body;
    return new Response(body as BodyInit | undefined, {
      status: route.status ?? 200,
      headers: route.headers,
    });
  });
  const port = (server.addr as Deno.NetAddr).port;
  return {
    host: `${hostname}:${port}`,
    routes,
    seen,
    stop: () => server.shutdown(),
  };
}

/** Serves a manifest under `/v2/<repo>/manifests/<ref>` with the given Content-Type. */
export function manifestRoute(
  s: LyingServer,
  o: { repo: string; ref: string; bytes: Uint8Array; contentType: string },
): void {
  s.routes.set(`/v2/${o.repo}/manifests/${o.ref}`, {
    headers: { "content-type": o.contentType, "content-length": String(o.bytes.length) },
    body: o.bytes,
  });
}

/** Serves a blob under `/v2/<repo>/blobs/<digest>`, bytes as given (right or wrong). */
export function blobRoute(
  s: LyingServer,
  o: { repo: string; digest: string; bytes: Uint8Array },
): void {
  s.routes.set(`/v2/${o.repo}/blobs/${o.digest}`, {
    headers: { "content-type": "application/octet-stream" },
    body: o.bytes,
  });
}
