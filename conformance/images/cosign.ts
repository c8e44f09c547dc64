/**
 * Cosign-style signing for tests, with a key the test makes: a simple-signing payload naming a
 * manifest digest and a docker-reference, an ECDSA P-256 SHA-256 signature in ASN.1 DER (as
 * cosign writes it), and the signature manifest pushed under `sha256-<hex>.sig` in the image's
 * repository, its layers carrying the payloads and the signatures as annotations.
 */
import { sha256Digest } from "./layer.ts";
import type { StoredBlob } from "./oci.ts";
import { pushBlob, pushManifest, type PushTarget } from "./pusher.ts";

export const SIMPLE_SIGNING = "application/vnd.dev.cosign.simplesigning.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";

export interface CosignKey {
  privateKey: CryptoKey;
  /** SPKI PEM, what policy.json's keyPath points at. */
  publicPem: string;
}

export interface CosignSignature {
  payload: Uint8Array<ArrayBuffer>;
  /** base64 DER ECDSA signature of payload. */
  signature: string;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

export async function makeCosignKey(): Promise<CosignKey> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const lines = b64(spki).match(/.{1,64}/g)!.join("\n");
  return {
    privateKey: pair.privateKey,
    publicPem: `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`,
  };
}

/** ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }` from WebCrypto's r||s. */
export function p1363ToDer(raw: Uint8Array): Uint8Array {
  const int = (v: Uint8Array) => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const body = v[i] & 0x80 ? [0, ...v.subarray(i)] : [...v.subarray(i)];
    return [0x02, body.length, ...body];
  };
  const half = raw.length / 2;
  const seq = [...int(raw.subarray(0, half)), ...int(raw.subarray(half))];
  return new Uint8Array([0x30, seq.length, ...seq]);
}

/** Signs a simple-signing payload for reference at digest. */
export async function signImage(
  key: CosignKey,
  o: { reference: string; digest: string },
): Promise<CosignSignature> {
  const payload = new TextEncoder().encode(JSON.stringify({
    critical: {
      identity: { "docker-reference": o.reference },
      image: { "docker-manifest-digest": o.digest },
      type: "cosign container image signature",
    },
    optional: null,
  }));
  const raw = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key.privateKey,
    payload,
  );
  return { payload, signature: b64(p1363ToDer(new Uint8Array(raw))) };
}

async function blob(mediaType: string, bytes: Uint8Array<ArrayBuffer>): Promise<StoredBlob> {
  return { mediaType, bytes, size: bytes.length, digest: await sha256Digest(bytes) };
}

/** Pushes the signature manifest for the image at digest into target's repository. */
export async function pushSignatures(
  target: PushTarget,
  o: { digest: string; signatures: CosignSignature[] },
): Promise<void> {
  const config = await blob(OCI_CONFIG, new TextEncoder().encode("{}"));
  await pushBlob(target, config);
  const layers = [];
  for (const s of o.signatures) {
    const payload = await blob(SIMPLE_SIGNING, s.payload);
    await pushBlob(target, payload);
    layers.push({
      mediaType: SIMPLE_SIGNING,
      digest: payload.digest,
      size: payload.size,
      annotations: { "dev.cosignproject.cosign/signature": s.signature },
    });
  }
  const manifest = await blob(
    OCI_MANIFEST,
    new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers,
    })),
  );
  const tag = `sha256-${o.digest.slice("sha256:".length)}.sig`;
  await pushManifest(target, manifest, { reference: tag });
}
