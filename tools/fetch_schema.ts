/**
 * Fetches the CRI schema (k8s.io/cri-api) for every supported minor through the Go module proxy,
 * checks the module hash against the pin, and copies api.proto into the cache. Idempotent: a
 * verified copy already in place is kept.
 */
import { K8S_MINORS, schemaPath } from "../src/cri/k8s_versions.ts";
import { generateTypes } from "./gen_types.ts";

const PROTO_IN_MODULE = "pkg/apis/runtime/v1/api.proto";

async function goModDownload(mod: string): Promise<{ Dir: string; Sum: string }> {
  const env = { GOSUMDB: "off", GOFLAGS: "-mod=mod" };
  const out = await new Deno.Command("go", {
    args: ["mod", "download", "-json", mod],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `go mod download ${mod} failed: ${new TextDecoder().decode(out.stderr)}${text}`,
    );
  }
  return JSON.parse(text);
}

async function fetchOne(m: (typeof K8S_MINORS)[number]): Promise<void> {
  const dest = schemaPath(m.minor);
  const stamp = `${dest}.sum`;
  try {
    if ((await Deno.readTextFile(stamp)).trim() === m.criApiSum) return;
  } catch { /* not fetched yet */ }
  const info = await goModDownload(`k8s.io/cri-api@${m.criApi}`);
  if (info.Sum !== m.criApiSum) {
    throw new Error(
      `k8s.io/cri-api@${m.criApi}: module hash ${info.Sum} does not match the pinned ${m.criApiSum}`,
    );
  }
  await Deno.mkdir(dest.slice(0, dest.lastIndexOf("/")), { recursive: true });
  await Deno.copyFile(`${info.Dir}/${PROTO_IN_MODULE}`, dest);
  await Deno.chmod(dest, 0o644);
  await Deno.writeTextFile(stamp, m.criApiSum + "\n");
}

if (import.meta.main) {
  for (const m of K8S_MINORS) await fetchOne(m);
  await generateTypes();
}
