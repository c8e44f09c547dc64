/** A small gRPC client for tests: calls any RPC of the served schema by name. */
import * as grpc from "@grpc/grpc-js";
import type { Schema, ServiceName } from "../cri/schema.ts";

export class CriTestClient {
  readonly #clients: Record<ServiceName, grpc.Client>;

  constructor(socket: string, schema: Schema) {
    const make = (s: ServiceName) => {
      const Ctor = grpc.makeGenericClientConstructor(schema.definitions[s], s);
      return new Ctor(`unix://${socket}`, grpc.credentials.createInsecure());
    };
    this.#clients = { RuntimeService: make("RuntimeService"), ImageService: make("ImageService") };
  }

  call<T = Record<string, unknown>>(
    service: ServiceName,
    method: string,
    req: Record<string, unknown> = {},
  ): Promise<T> {
    const client = this.#clients[service] as unknown as Record<
      string,
      (req: unknown, cb: (err: grpc.ServiceError | null, res: T) => void) => void
    >;
    return new Promise((resolve, reject) =>
      client[method].call(
        this.#clients[service],
        req,
        (err, res) => (err ? reject(err) : resolve(res)),
      )
    );
  }

  close(): void {
    for (const c of Object.values(this.#clients)) c.close();
  }
}
