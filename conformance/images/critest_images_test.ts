import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert";
import { parse as parseToml } from "smol-toml";
import { type LocalRegistry, startRegistry } from "../registry.ts";
import {
  buildAndPushCritestImages,
  type CritestImagesReport,
  parseUpstreamRef,
  registriesConf,
} from "./critest_images.ts";
import { MEDIA_TYPES } from "./oci.ts";

const ACCEPT = Object.values(MEDIA_TYPES).flatMap((t) => [t.manifest, t.index]).join(", ");

Deno.test("upstream references map to host, repo and tag", () => {
  assertEquals(parseUpstreamRef("registry.k8s.io/e2e-test-images/busybox:1.29-2"), {
    host: "registry.k8s.io",
    repo: "e2e-test-images/busybox",
    tag: "1.29-2",
  });
  assertEquals(parseUpstreamRef("gcr.io/k8s-staging-cri-tools/test-image-latest"), {
    host: "gcr.io",
    repo: "k8s-staging-cri-tools/test-image-latest",
    tag: "latest",
  });
  assertEquals(parseUpstreamRef("localhost:5000/a/b:c"), {
    host: "localhost:5000",
    repo: "a/b",
    tag: "c",
  });
  assertEquals(parseUpstreamRef("busybox"), {
    host: "docker.io",
    repo: "library/busybox",
    tag: "latest",
  });
});

Deno.test("registriesConf sends every host to the local registry, insecure", () => {
  const text = registriesConf(["gcr.io", "registry.k8s.io"], "127.0.0.1:5000");
  const doc = parseToml(text) as {
    registry: { prefix: string; location: string; insecure: boolean }[];
  };
  assertEquals(JSON.parse(JSON.stringify(doc.registry)), [
    { prefix: "gcr.io", location: "127.0.0.1:5000", insecure: true },
    { prefix: "registry.k8s.io", location: "127.0.0.1:5000", insecure: true },
    { prefix: "127.0.0.1:5000", location: "127.0.0.1:5000", insecure: true },
  ]);
});

Deno.test("an unknown critest version is refused", async () => {
  await assertRejects(
    buildAndPushCritestImages({ registry: "127.0.0.1:1", critestVersion: "v9.9.9" }),
    /no image list for critest v9\.9\.9/,
  );
});

async function manifestDigest(registry: LocalRegistry, ref: { repo: string; tag: string }) {
  const { repo, tag } = ref;
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: ACCEPT },
  });
  const body = await res.text();
  assertEquals(res.status, 200, `${repo}:${tag}: ${body}`);
  return res.headers.get("Docker-Content-Digest");
}

function digestOf(report: CritestImagesReport, upstreamRef: string): string {
  const image = report.images.find((i) => i.upstreamRef === upstreamRef);
  assert(image, `${upstreamRef} not in the report`);
  return image.digest;
}

Deno.test("every critest image is built, pushed and served under its upstream path", async () => {
  const registry = await startRegistry();
  try {
    const started = performance.now();
    const report = await buildAndPushCritestImages({
      registry: registry.host,
      critestVersion: "1.37.0",
    });
    const seconds = (performance.now() - started) / 1000;
    await Deno.stderr.write(new TextEncoder().encode(
      `built and pushed ${report.images.length} references in ${seconds.toFixed(1)} s\n`,
    ));
    assert(seconds < 30, `took ${seconds} s`);

    assertEquals(report.hosts, ["gcr.io", "k8s.gcr.io", "registry.k8s.io"]);
    assertEquals(report.unavailable.map((u) => u.upstreamRef.split("@")[0]), [
      "gcr.io/k8s-staging-cri-tools/test-image-digest",
    ]);
    for (const image of report.images) {
      assertEquals(
        await manifestDigest(registry, { repo: image.localRepo, tag: image.tag }),
        image.digest,
      );
    }
    const busybox = report.images.find((i) => i.localRepo === "e2e-test-images/busybox");
    assertEquals(busybox?.tag, "1.29-2");
    const latest = report.images.find((i) => i.upstreamRef.endsWith("/test-image-latest"));
    assertEquals([latest?.localRepo, latest?.tag], [
      "k8s-staging-cri-tools/test-image-latest",
      "latest",
    ]);

    const cri = "gcr.io/k8s-staging-cri-tools/";
    const same = [1, 2, 3].map((n) => digestOf(report, `${cri}test-image-tags:${n}`));
    assertEquals(new Set(same).size, 1, "test-image-tags:1..3 are one image");
    const different = [1, 2, 3].map((n) => digestOf(report, `${cri}test-image-${n}:latest`));
    assertEquals(new Set(different).size, 3, "test-image-1..3 are three images");
    assertEquals(
      digestOf(report, "registry.k8s.io/pause:3.9"),
      digestOf(report, "k8s.gcr.io/pause:3.9"),
    );
    assert(
      digestOf(report, "registry.k8s.io/pause:3.10.1") !== digestOf(report, "k8s.gcr.io/pause:3.9"),
    );
    assert(
      digestOf(report, `${cri}test-image-tag:test`) !==
        digestOf(report, `${cri}test-image-tag:all`),
    );
  } finally {
    await registry.stop();
  }
});
