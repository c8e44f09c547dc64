/**
 * Loads the pinned runtime.v1 schema with protobufjs and turns its two services into grpc-js
 * service definitions. Requests decode with int64 as numbers when safe and strings otherwise, so
 * nanosecond timestamps keep their precision.
 */
import type * as grpc from "@grpc/grpc-js";
import Long from "long";
import protobuf from "protobufjs";
import { DEFAULT_MINOR, schemaPath } from "./k8s_versions.ts";

// protobufjs looks `long` up with a dynamic require that does not resolve under Deno's npm
// support; without it int64 values above 2^53 would be silently rounded.
protobuf.util.Long = Long;
protobuf.configure();

export const SERVICE_NAMES = ["RuntimeService", "ImageService"] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface MethodInfo {
  readonly service: ServiceName;
  readonly name: string;
  readonly responseStream: boolean;
}

export interface Schema {
  readonly minor: string;
  readonly root: protobuf.Root;
  readonly definitions: Record<ServiceName, grpc.ServiceDefinition>;
  readonly methods: MethodInfo[];
}

const DECODE: protobuf.IConversionOptions = { longs: Number, enums: Number, defaults: true };

function decoder(type: protobuf.Type) {
  return (buf: Uint8Array) => {
    const msg = type.decode(buf);
    // Precision matters for int64 (timestamps in ns): keep big ones as strings.
    return type.toObject(msg, { ...DECODE, longs: longToSafe as unknown as NumberConstructor });
  };
}

/** Number when exact, decimal string otherwise. Used as protobufjs' `longs` converter. */
function longToSafe(v: Long | number): number | string {
  if (typeof v === "number") return v;
  const n = v.toNumber();
  return Number.isSafeInteger(n) ? n : v.toString();
}

function encoder(type: protobuf.Type) {
  return (value: unknown) => {
    const msg = type.fromObject(value as Record<string, unknown>);
    const bytes = type.encode(msg).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

export function loadSchema(minor: string = DEFAULT_MINOR): Schema {
  const root = protobuf.loadSync(schemaPath(minor));
  root.resolveAll();
  const definitions = {} as Record<ServiceName, grpc.ServiceDefinition>;
  const methods: MethodInfo[] = [];
  for (const service of SERVICE_NAMES) {
    const svc = root.lookupService(`runtime.v1.${service}`);
    const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const m of svc.methodsArray) {
      const req = m.resolvedRequestType!;
      const res = m.resolvedResponseType!;
      def[m.name] = {
        path: `/runtime.v1.${service}/${m.name}`,
        requestStream: false,
        responseStream: !!m.responseStream,
        requestSerialize: encoder(req),
        requestDeserialize: decoder(req),
        responseSerialize: encoder(res),
        responseDeserialize: decoder(res),
      };
      methods.push({ service, name: m.name, responseStream: !!m.responseStream });
    }
    definitions[service] = def;
  }
  return { minor, root, definitions, methods };
}
