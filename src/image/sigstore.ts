/**
 * Applies a signature policy to one pull, before anything is stored. `sigstoreSigned` with public
 * keys reads cosign-style signatures from the image's repository: the OCI manifest tagged
 * `sha256-<manifest digest hex>.sig`, whose simple-signing layers are payloads signed (ECDSA,
 * base64 DER in the `dev.cosignproject.cosign/signature` annotation) by one of the keys. A payload
 * counts when its signature verifies, it names the pulled manifest digest, and its
 * docker-reference satisfies the requirement's signedIdentity.
 */
import { errorMessage, NotFoundError, SignatureValidationError } from "../errors.ts";
import type { Credentials } from "./auth.ts";
import { type Digest, digestHex, digestOf, parseDigest } from "./digest.ts";
import { type Policy, type Requirement, requirementsFor, type SignedIdentity } from "./policy.ts";
import { formatRef, type ImageRef, parseReference, repoName } from "./reference.ts";
import type { Endpoint, RegistryClient } from "./registry_client.ts";

export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
const PAYLOAD_TYPE = "cosign container image signature";
const MAX_PAYLOAD = 64 << 10;
const MAX_SIGNATURES = 32;

export interface SigSource {
  ep: Endpoint;
  repo: string;
  creds?: Credentials;
  signal?: AbortSignal;
}

export interface PolicyCheck {
  policy: Policy;
  /** The name asked for (its identity is what signatures must name). */
  name: ImageRef;
  /** Digest of the top-level manifest as served. */
  digest: Digest;
  src: SigSource;
}

interface Signature {
  payload: Uint8Array<ArrayBuffer>;
  signature: string;
}

/** Throws SignatureValidationError unless every requirement for the name accepts the image. */
export async function checkPolicy(client: RegistryClient, c: PolicyCheck): Promise<void> {
  const { scope, reqs } = requirementsFor(c.policy, c.name);
  const what = `${formatRef(c.name)} (${c.digest})`;
  let sigs: Promise<Signature[]> | undefined;
  for (const req of reqs) {
    if (req.type === "insecureAcceptAnything") continue;
    if (req.type === "reject") {
      throw new SignatureValidationError(
        `${what} is rejected by policy ${c.policy.source} (scope ${scope})`,
      );
    }
    sigs ??= fetchSignatures(client, c);
    const found = await sigs;
    if (found.length === 0) {
      throw new SignatureValidationError(
        `${what}: no sigstore signature found (policy ${c.policy.source}, scope ${scope})`,
      );
    }
    const reasons = await Promise.all(found.map((sig) => rejectReason(req, { sig, c })));
    if (reasons.some((r) => r === undefined)) continue;
    throw new SignatureValidationError(
      `${what}: no valid signature (policy ${c.policy.source}, scope ${scope}): ` +
        [...new Set(reasons)].join("; "),
    );
  }
}

async function fetchSignatures(client: RegistryClient, c: PolicyCheck): Promise<Signature[]> {
  const tag = `sha256-${digestHex(c.digest)}.sig`;
  let doc: { layers?: { mediaType?: string; digest?: string; annotations?: Obj }[] };
  try {
    const m = await client.manifest(c.src.ep, tag, c.src);
    doc = JSON.parse(new TextDecoder().decode(m.bytes));
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    if (err instanceof SyntaxError) throw new SignatureValidationError(`${tag}: not JSON`);
    throw err;
  }
  const layers = (Array.isArray(doc.layers) ? doc.layers : [])
    .filter((l) => l?.mediaType === SIMPLE_SIGNING).slice(0, MAX_SIGNATURES);
  const out: Signature[] = [];
  for (const l of layers) {
    const signature = l.annotations?.[SIGNATURE_ANNOTATION];
    if (typeof signature !== "string") continue;
    const digest = parseDigest(l.digest, `${tag} layer digest`);
    const payload = await client.blobBytes(c.src.ep, digest, { ...c.src, max: MAX_PAYLOAD });
    if (digestOf(payload) !== digest) {
      throw new SignatureValidationError(`${tag}: payload ${digest} does not match its digest`);
    }
    out.push({ payload: payload as Uint8Array<ArrayBuffer>, signature });
  }
  return out;
}

type Obj = Record<string, unknown>;

/** Why this signature does not satisfy the requirement, or undefined when it does. */
async function rejectReason(
  req: Extract<Requirement, { type: "sigstoreSigned" }>,
  o: { sig: Signature; c: PolicyCheck },
): Promise<string | undefined> {
  const { sig, c } = o;
  if (!(await verifiedByAny(req.keys, sig))) return "signature does not verify with the policy key";
  let critical: Obj;
  try {
    critical = JSON.parse(new TextDecoder().decode(sig.payload)).critical;
  } catch {
    return "payload is not JSON";
  }
  if ((critical as Obj)?.type !== PAYLOAD_TYPE) return "payload is not a cosign image signature";
  const signedDigest = ((critical.image ?? {}) as Obj)["docker-manifest-digest"];
  if (signedDigest !== c.digest) return `signature is for ${signedDigest}, not ${c.digest}`;
  const signedRef = ((critical.identity ?? {}) as Obj)["docker-reference"];
  if (typeof signedRef !== "string") return "payload has no docker-reference";
  try {
    if (identityMatches(req.signedIdentity, { image: c.name, signed: parseReference(signedRef) })) {
      return undefined;
    }
  } catch (err) {
    return `signed docker-reference ${signedRef}: ${errorMessage(err)}`;
  }
  return `signed identity ${signedRef} does not match ${formatRef(c.name)} ` +
    `(${req.signedIdentity.type})`;
}

/** signedIdentity rules of containers-policy.json(5) for the docker transport. */
export function identityMatches(
  id: SignedIdentity,
  refs: { image: ImageRef; signed: ImageRef },
): boolean {
  const { image, signed } = refs;
  switch (id.type) {
    case "matchExact":
      return formatRef(image) === formatRef(signed);
    case "matchRepoDigestOrExact":
      return image.digest !== undefined
        ? repoName(image) === repoName(signed)
        : formatRef(image) === formatRef(signed);
    case "matchRepository":
      return repoName(image) === repoName(signed);
    case "exactReference":
      return formatRef(parseReference(id.dockerReference)) === formatRef(signed);
    case "exactRepository":
      return repoName(parseReference(id.dockerRepository)) === repoName(signed);
  }
}

const CURVES = [
  { namedCurve: "P-256", hash: "SHA-256", size: 32 },
  { namedCurve: "P-384", hash: "SHA-384", size: 48 },
];

async function verifiedByAny(keys: string[], sig: Signature): Promise<boolean> {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(sig.signature), (ch) => ch.charCodeAt(0));
  } catch {
    return false;
  }
  for (const pem of keys) {
    for (const curve of CURVES) {
      const key = await importSpki(pem, curve.namedCurve);
      if (!key) continue;
      const p1363 = raw.length === 2 * curve.size ? raw : derToP1363(raw, curve.size);
      if (!p1363) continue;
      const ok = await crypto.subtle.verify(
        { name: "ECDSA", hash: curve.hash },
        key,
        p1363 as Uint8Array<ArrayBuffer>,
        sig.payload,
      );
      if (ok) return true;
    }
  }
  return false;
}

async function importSpki(pem: string, namedCurve: string): Promise<CryptoKey | undefined> {
  const m = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(pem);
  if (!m) return undefined;
  try {
    const der = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    return await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve }, false, [
      "verify",
    ]);
  } catch {
    return undefined;
  }
}

/** ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` to the fixed-width r||s WebCrypto verifies. */
export function derToP1363(der: Uint8Array, size: number): Uint8Array | undefined {
  let i = 0;
  const len = (): number | undefined => {
    const b = der[i++];
    if (b === undefined) return undefined;
    if (b < 0x80) return b;
    if (b !== 0x81) return undefined;
    return der[i++];
  };
  if (der[i++] !== 0x30 || len() !== der.length - i) return undefined;
  const out = new Uint8Array(2 * size);
  for (const at of [0, size]) {
    if (der[i++] !== 0x02) return undefined;
    const n = len();
    if (n === undefined || n === 0 || i + n > der.length) return undefined;
    let v = der.subarray(i, i + n);
    i += n;
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) return undefined;
    out.set(v, at + size - v.length);
  }
  return i === der.length ? out : undefined;
}
