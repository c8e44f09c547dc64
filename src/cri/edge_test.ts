import * as grpc from "@grpc/grpc-js";
import { assertEquals } from "../testing/asserts.ts";
import * as E from "../errors.ts";
import { toServiceError } from "./edge.ts";

Deno.test("typed errors map to gRPC codes and keep their message", () => {
  const cases: [unknown, grpc.status][] = [
    [new E.NotFoundError('pod sandbox "x" not found'), grpc.status.NOT_FOUND],
    [new E.AlreadyExistsError("name reserved"), grpc.status.ALREADY_EXISTS],
    [new E.InvalidArgumentError("config.metadata.name: empty"), grpc.status.INVALID_ARGUMENT],
    [new E.FailedPreconditionError("not stopped"), grpc.status.FAILED_PRECONDITION],
    [new E.DeadlineExceededError("timeout"), grpc.status.DEADLINE_EXCEEDED],
    [new E.ResourceExhaustedError("too many"), grpc.status.RESOURCE_EXHAUSTED],
    [new E.UnavailableError("shutting down"), grpc.status.UNAVAILABLE],
    [new E.UnimplementedError("X"), grpc.status.UNIMPLEMENTED],
    [new Deno.errors.NotFound("/x"), grpc.status.NOT_FOUND],
    [new TypeError("bug"), grpc.status.INTERNAL],
    ["thrown string", grpc.status.INTERNAL],
  ];
  for (const [err, code] of cases) {
    const se = toServiceError(err);
    assertEquals(se.code, code);
    assertEquals(se.details, err instanceof Error ? err.message : String(err));
  }
});
