import { assertEquals, assertRejects } from "../testing/asserts.ts";
import { UnavailableError } from "../errors.ts";
import { workerDialer } from "./netns_dial.ts";

Deno.test("the worker dialer connects to localhost in the host namespace and reports refusals", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const served = (async () => {
    const c = await l.accept();
    await c.write(new TextEncoder().encode("hi"));
    c.close();
  })();
  const sock = await workerDialer.dial({ port });
  assertEquals(new TextDecoder().decode((await sock.read())!), "hi");
  assertEquals(await sock.read(), null);
  await sock.close();
  await served;
  l.close();
  await assertRejects(() => workerDialer.dial({ port }), UnavailableError, "refused");
  await assertRejects(
    () => workerDialer.dial({ netns: "/nonexistent/netns", port }),
    UnavailableError,
    "open /nonexistent/netns",
  );
});
