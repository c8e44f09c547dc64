import { assertEquals, assertRejects } from "../testing/asserts.ts";
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
} from "../errors.ts";
import type { ContainerService } from "../runtime/container/container_service.ts";
import type { SandboxService } from "../runtime/sandbox/sandbox_service.ts";
import type { StreamServer } from "../stream/server.ts";
import { TokenCache } from "../stream/tokens.ts";
import type { CachedRequest } from "../stream/backend.ts";
import { exec } from "./exec.ts";
import { attach } from "./attach.ts";
import { portForward } from "./port_forward.ts";
import type { CallContext } from "./call_context.ts";

const ctx: CallContext = { requestId: "t", method: "test", signal: new AbortController().signal };

const containers = {
  get(id: string) {
    if (id === "run") return Promise.resolve({ id: "run-full-id", status: { state: "running" } });
    if (id === "exited") return Promise.resolve({ id: "exited", status: { state: "exited" } });
    return Promise.reject(new NotFoundError(`container ${id} not found`));
  },
} as unknown as ContainerService;

const pods = {
  get(id: string) {
    if (id === "pod") return { id: "pod-full-id" };
    throw new NotFoundError(`pod sandbox ${id} not found`);
  },
} as unknown as SandboxService;

function server(max = 1000) {
  const tokens = new TokenCache<CachedRequest>({ maxInFlight: max });
  const s = {
    url: (r: CachedRequest) => `http://127.0.0.1:1/${r.kind}/${tokens.insert(r)}`,
  } as unknown as StreamServer;
  return { s, tokens };
}

Deno.test("Exec: the kubelet's request checks, then a URL whose token holds the request", async () => {
  const { s, tokens } = server();
  const rpc = exec(containers, s);
  const ok = { containerId: "run", cmd: ["ls"], stdout: true };
  await assertRejects(
    () => rpc({ ...ok, containerId: "" }, ctx),
    InvalidArgumentError,
    "container_id",
  );
  await assertRejects(
    () => rpc({ ...ok, tty: true, stderr: true }, ctx),
    InvalidArgumentError,
    "tty",
  );
  await assertRejects(
    () => rpc({ ...ok, stdout: false }, ctx),
    InvalidArgumentError,
    "one of stdin",
  );
  await assertRejects(() => rpc({ ...ok, containerId: "nope" }, ctx), NotFoundError);
  await assertRejects(() => rpc({ ...ok, containerId: "exited" }, ctx), FailedPreconditionError);
  const { url } = await rpc(ok, ctx);
  const token = url!.split("/exec/")[1];
  assertEquals(tokens.consume(token), {
    kind: "exec",
    containerId: "run-full-id",
    cmd: ["ls"],
    tty: false,
    stdin: false,
    stdout: true,
    stderr: false,
  });
});

Deno.test("Attach and PortForward: URLs; the token limit is ResourceExhausted", async () => {
  const { s } = server(1);
  const { url } = await attach(containers, s)({ containerId: "run", stdin: true }, ctx);
  assertEquals(url!.includes("/attach/"), true);
  const pf = portForward(pods, server().s);
  await assertRejects(() => pf({ podSandboxId: "" }, ctx), InvalidArgumentError);
  await assertRejects(() => pf({ podSandboxId: "pod", port: [70000] }, ctx), InvalidArgumentError);
  await assertRejects(() => pf({ podSandboxId: "nope" }, ctx), NotFoundError);
  assertEquals(
    (await pf({ podSandboxId: "pod", port: [80] }, ctx)).url!.includes("/portforward/"),
    true,
  );
  await assertRejects(
    () => attach(containers, s)({ containerId: "run", stdout: true }, ctx),
    ResourceExhaustedError,
  );
});
