/** Image volumes: planning against the image store, host mounts through a recording runner. */
import { assertEquals, assertRejects, assertThrows } from "../../testing/asserts.ts";
import { InvalidArgumentError, NotFoundError } from "../../errors.ts";
import type { ImageRecord } from "../../image/image_store.ts";
import type { Mount } from "../../cri/gen/api.ts";
import type { MountBinaries } from "./rootfs.ts";
import {
  imageVolumeMountArgs,
  mountImageVolumes,
  planImageVolumes,
  unmountImageVolumes,
} from "./image_volumes.ts";

const rec = (id: string) =>
  ({ id, repoTags: [`${id}:1`], repoDigests: [] }) as unknown as ImageRecord;
const store = new Map([["tools:1", rec("sha256:tools")]]);

Deno.test("planImageVolumes() names each image volume's stored image and refuses one not pulled", () => {
  const plans = planImageVolumes([
    { containerPath: "/a", hostPath: "/h" },
    { containerPath: "/tools", image: { image: "tools:1" }, readonly: true },
  ], (r) => store.get(r));
  assertEquals(plans.map((p) => [p.index, p.image.id]), [[1, "sha256:tools"]]);
  const err = assertThrows(
    () =>
      planImageVolumes(
        [{ containerPath: "/x", image: { image: "absent:2" }, readonly: true }],
        () => undefined,
      ),
    NotFoundError,
  );
  assertEquals(err.message.includes('"absent:2" is not stored'), true);
  assertThrows(
    () =>
      planImageVolumes([{ containerPath: "/x", image: { image: "tools:1" } }], (r) => store.get(r)),
    InvalidArgumentError,
    "must be read-only",
  );
});

Deno.test("the host mount is a lower-only overlay (read-only by construction), ro", () => {
  assertEquals(imageVolumeMountArgs(["l/0", "l/1"], "/run/c/volumes/0"), [
    "-t",
    "overlay",
    "overlay",
    "-o",
    "ro,nosuid,nodev,lowerdir=l/0:l/1",
    "/run/c/volumes/0",
  ]);
});

function recorder(fail?: RegExp) {
  const calls: string[] = [];
  const mounted = new Set<string>();
  const bins: MountBinaries = {
    mount: "mount",
    runner: {
      run: (cmd, o) => {
        const args = o?.args ?? [];
        calls.push(`${cmd} ${args.join(" ")}`);
        const target = args[args.length - 1];
        if (fail?.test(target)) return Promise.resolve({ code: 32, stdout: "", stderr: "boom" });
        mounted.add(target);
        return Promise.resolve({ code: 0, stdout: "", stderr: "" });
      },
    },
    mounter: {
      unmount(target) {
        calls.push(`umount ${target}`);
        return mounted.delete(target);
      },
      mountFs() {},
    },
  };
  return { bins, calls, mounted };
}

/** mountImageVolumes() on `dir` with the fake store, whose images have `layers`. */
function mountIn(
  dir: string,
  o: { bins: MountBinaries; mounts: Mount[]; layers: string[] },
) {
  return mountImageVolumes(o.mounts, {
    ...o.bins,
    plans: planImageVolumes(o.mounts, (x) => store.get(x)),
    storageDir: `${dir}/layer`,
    runDir: `${dir}/run`,
    layerDirs: () => o.layers,
  });
}

Deno.test("mountImageVolumes() points the CRI mount at the host mount; unmount removes all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "imgvol-" });
  const r = recorder();
  try {
    const criMounts = [
      { containerPath: "/a", hostPath: "/h" },
      { containerPath: "/tools", image: { image: "tools:1" }, readonly: true },
    ];
    const out = await mountIn(dir, {
      bins: r.bins,
      mounts: criMounts,
      layers: ["/layers/top", "/layers/base"],
    });
    assertEquals(out[0], criMounts[0]);
    assertEquals(out[1], {
      containerPath: "/tools",
      hostPath: `${dir}/run/volumes/0`,
      readonly: true,
      image: { image: "tools:1", imageRef: "sha256:tools" },
    });
    assertEquals(await Deno.readLink(`${dir}/layer/volumes/0/l/0`), "/layers/top");
    assertEquals(await Deno.readLink(`${dir}/layer/volumes/0/l/2`), `${dir}/layer/volumes/0/empty`);
    assertEquals([...r.mounted], [`${dir}/run/volumes/0`]);
    await unmountImageVolumes(`${dir}/run`, r.bins);
    await unmountImageVolumes(`${dir}/run`, r.bins);
    assertEquals(r.mounted.size, 0);
    await assertRejects(() => Deno.stat(`${dir}/run/volumes`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed image volume mount leaves what the undo removes, and nothing mounted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "imgvol-" });
  const r = recorder(/volumes\/1$/);
  try {
    const criMounts = [
      { containerPath: "/a", image: { image: "tools:1" }, readonly: true },
      { containerPath: "/b", image: { image: "tools:1" }, readonly: true },
    ];
    await assertRejects(() =>
      mountIn(dir, { bins: r.bins, mounts: criMounts, layers: ["/layers/top"] })
    );
    assertEquals(r.mounted.size, 1);
    await unmountImageVolumes(`${dir}/run`, r.bins);
    assertEquals(r.mounted.size, 0);
    await assertRejects(() => Deno.stat(`${dir}/run/volumes`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image_sub_path binds a directory inside the image; a missing or escaping one is refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "imgvol-" });
  const r = recorder();
  // The fake mount mounts nothing: the mount point stands in for the image's root.
  const run = (sub: string) => {
    const m = [{
      containerPath: "/v",
      image: { image: "tools:1" },
      readonly: true,
      imageSubPath: sub,
    }];
    return mountIn(dir, { bins: r.bins, mounts: m, layers: ["/layers/top"] });
  };
  try {
    await Deno.mkdir(`${dir}/run/volumes/0/etc`, { recursive: true });
    await Deno.symlink("/", `${dir}/run/volumes/0/up`);
    const real = await Deno.realPath(`${dir}/run/volumes/0/etc`);
    assertEquals((await run("etc"))[0].hostPath, real);
    await assertRejects(() => run("not-existing"), NotFoundError, "does not exist in image volume");
    await assertRejects(() => run("up"), InvalidArgumentError, "outside the image");
    await assertRejects(() => run("../x"), InvalidArgumentError, "relative");
  } finally {
    await unmountImageVolumes(`${dir}/run`, r.bins).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
