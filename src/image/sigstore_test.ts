import { assert, assertEquals } from "../testing/asserts.ts";
import { SignatureValidationError } from "../errors.ts";
import { toServiceError } from "../cri/edge.ts";
import { derToP1363, identityMatches } from "./sigstore.ts";
import { parseReference } from "./reference.ts";

Deno.test("DER ECDSA signatures become fixed-width r||s; malformed ones are refused", () => {
  // r = 0x00ff.. (padded sign byte), s = 0x01 (short).
  const r = [0x00, 0xff, ...new Array(31).fill(0x11)];
  const der = new Uint8Array([0x30, 4 + r.length + 1, 0x02, r.length, ...r, 0x02, 1, 0x01]);
  const raw = derToP1363(der, 32)!;
  assertEquals(raw.length, 64);
  assertEquals([...raw.subarray(0, 2)], [0xff, 0x11]);
  assertEquals([...raw.subarray(32, 64)], [...new Array(31).fill(0), 1]);
  assertEquals(derToP1363(der.subarray(0, der.length - 1), 32), undefined);
  assertEquals(derToP1363(new Uint8Array([0x30, 0]), 32), undefined);
  assertEquals(derToP1363(new Uint8Array([0x31, 3, 2, 1, 1]), 32), undefined);
});

Deno.test("signedIdentity rules", () => {
  const r = parseReference;
  const tagged = r("r.io/a/app:1");
  const pinned = r(`r.io/a/app@sha256:${"a".repeat(64)}`);
  const m =
    (type: "matchExact" | "matchRepoDigestOrExact" | "matchRepository", img = tagged) =>
    (signed: string) => identityMatches({ type }, { image: img, signed: r(signed) });
  assert(m("matchRepoDigestOrExact")("r.io/a/app:1"));
  assert(!m("matchRepoDigestOrExact")("r.io/a/app:2"));
  assert(m("matchRepoDigestOrExact", pinned)("r.io/a/app:2"));
  assert(!m("matchRepoDigestOrExact", pinned)("r.io/a/other:2"));
  assert(!m("matchExact", pinned)("r.io/a/app:2"));
  assert(m("matchRepository")("r.io/a/app:9"));
  assert(
    identityMatches({ type: "exactReference", dockerReference: "r.io/b:1" }, {
      image: tagged,
      signed: r("r.io/b:1"),
    }),
  );
  assert(
    identityMatches({ type: "exactRepository", dockerRepository: "r.io/b" }, {
      image: tagged,
      signed: r("r.io/b:7"),
    }),
  );
});

Deno.test("a signature refusal reaches the kubelet as code Unknown, SignatureValidationFailed", () => {
  const e = toServiceError(new SignatureValidationError("r.io/a:1: no sigstore signature found"));
  assertEquals(e.code, 2);
  assert(e.details!.startsWith("SignatureValidationFailed: r.io/a:1"), e.details);
});
