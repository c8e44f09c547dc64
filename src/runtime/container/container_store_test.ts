import { assert, assertEquals, assertRejects } from "../../testing/asserts.ts";
import { AlreadyExistsError, NotFoundError } from "../../errors.ts";
import { newId } from "../../storage/record_dir.ts";
import { ContainerStore } from "./container_store.ts";
import { fakeMeta } from "../../testing/fake_containers.ts";

Deno.test("a container joins the index on commit; status writes are versioned and atomic", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ctr-store-" });
  try {
    const store = new ContainerStore(dir);
    const id = newId();
    await store.records.create(id);
    const c = await store.begin(fakeMeta(id));
    assertEquals(store.index.find(id), undefined, "creating containers are not listed");
    await store.commit(c, { state: "created", pid: 4 });
    assertEquals(store.index.get(id.slice(0, 6)).status, { state: "created", pid: 4 });
    await store.update(id, (s) => ({ ...s, state: "running", startedAt: "5" }));
    const onDisk = JSON.parse(await Deno.readTextFile(`${dir}/${id}/status.json`));
    assertEquals(onDisk, { version: "v1", state: "running", pid: 4, startedAt: "5" });
    assertEquals(store.byPod("p".repeat(64)).length, 1);
    store.names.reserve(c.meta.name, { id, key: "h" });
    assert(
      (() => {
        try {
          store.names.reserve(c.meta.name, { id: newId(), key: "h" });
          return false;
        } catch (err) {
          return err instanceof AlreadyExistsError;
        }
      })(),
    );
    await store.forget(c);
    assertEquals(store.names.get(c.meta.name), undefined);
    await assertRejects(() => Deno.stat(`${dir}/${id}`), Deno.errors.NotFound);
    await assertRejects(() => store.update(id, (s) => s), NotFoundError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withLock runs calls on one container one after another", async () => {
  const store = new ContainerStore("/nonexistent");
  const order: string[] = [];
  const slow = store.withLock("x", async () => {
    await new Promise((r) => setTimeout(r, 20));
    order.push("first");
  });
  const fast = store.withLock("x", () => {
    order.push("second");
    return Promise.resolve();
  });
  await Promise.all([slow, fast]);
  assertEquals(order, ["first", "second"]);
});
