/**
 * A small token server for the registry's `auth: token` mode (the Docker token flow): HTTPS on
 * 127.0.0.1, Basic credentials checked, and for each `repository:<name>:pull` scope asked a JWT
 * (ES256, x5c header with the signer's certificate, which the registry trusts through its
 * rootcertbundle) granting exactly that scope. Every request is recorded so tests can count them.
 */
import { pemBody, type SigningPki } from "./pki.ts";

export interface TokenServer {
  /** The realm URL for the registry config. */
  realm: string;
  host: string;
  /** Every token request, in order: the scope asked (or "") and the Basic user (or ""). */
  requests: { scope: string; user: string; granted: boolean }[];
  stop(): Promise<void>;
}

export interface TokenServerOptions {
  /** TLS certificate and key (PEM) of the server itself. */
  tls: { cert: string; key: string };
  signer: SigningPki;
  service: string;
  issuer: string;
  /** user → password. */
  users: Record<string, string>;
}

const SCOPE = /^repository:([a-z0-9]+(?:[._/-][a-z0-9]+)*):pull$/;

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

const json = (v: unknown) => b64url(new TextEncoder().encode(JSON.stringify(v)));

async function signJwt(key: CryptoKey, o: { x5c: string; claims: unknown }): Promise<string> {
  const input = `${json({ typ: "JWT", alg: "ES256", x5c: [o.x5c] })}.${json(o.claims)}`;
  const sig = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${b64url(new Uint8Array(sig))}`;
}

function basicUser(req: Request, users: Record<string, string>): string | undefined {
  const h = req.headers.get("authorization") ?? "";
  if (!h.startsWith("Basic ")) return undefined;
  const text = atob(h.slice(6));
  const colon = text.indexOf(":");
  const user = text.slice(0, colon);
  return colon > 0 && users[user] !== undefined && users[user] === text.slice(colon + 1)
    ? user
    : undefined;
}

export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const key = await crypto.subtle.importKey(
    "pkcs8",
    pemBody(o.signer.key, "PRIVATE KEY"),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const x5c = btoa(String.fromCharCode(...pemBody(o.signer.cert, "CERTIFICATE")));
  const requests: TokenServer["requests"] = [];
  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const scope = url.searchParams.get("scope") ?? "";
    const user = basicUser(req, o.users);
    const m = SCOPE.exec(scope);
    const granted = url.pathname === "/token" && user !== undefined && m !== null &&
      url.searchParams.get("service") === o.service;
    requests.push({ scope, user: user ?? "", granted });
    if (!granted) return new Response("denied", { status: user === undefined ? 401 : 403 });
    const now = Math.floor(Date.now() / 1000);
    const token = await signJwt(key, {
      x5c,
      claims: {
        iss: o.issuer,
        sub: user,
        aud: o.service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: crypto.randomUUID(),
        access: [{ type: "repository", name: m![1], actions: ["pull"] }],
      },
    });
    return Response.json({ token, expires_in: 300, issued_at: new Date().toISOString() });
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: o.tls.cert,
    key: o.tls.key,
    onListen: () => {},
  }, handler);
  const host = `127.0.0.1:${server.addr.port}`;
  return {
    realm: `https://${host}/token`,
    host,
    requests,
    stop: async () => {
      await server.shutdown();
    },
  };
}
