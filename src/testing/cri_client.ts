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

  /**
   * A server-streaming call: its messages as they come, until the server ends the stream, fails
   * it (the iterator throws) or `signal` cancels it (the iterator ends).
   */
  async *stream<T = Record<string, unknown>>(
    service: ServiceName,
    method: string,
    o: { req?: Record<string, unknown>; signal: AbortSignal },
  ): AsyncGenerator<T> {
    const client = this.#clients[service] as unknown as Record<
      string,
      (req: unknown) => grpc.ClientReadableStream<T>
    >;
    const call = client[method].call(this.#clients[service], o.req ?? {});
    const cancel = () => call.cancel();
    o.signal.addEventListener("abort", cancel, { once: true });
    try {
      for await (const msg of call) yield msg as T;
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.CANCELLED) throw err;
    } finally {
      o.signal.removeEventListener("abort", cancel);
      call.cancel();
    }
  }

  close(): void {
    for (const c of Object.values(this.#clients)) c.close();
  }
}
