/**
 * Loads the pinned runtime.v1 schema with protobufjs and turns its two services into grpc-js
 * service definitions. Requests decode with int64 as numbers when safe and strings otherwise, so
 * nanosecond timestamps keep their precision.
 */
import type * as grpc from "@grpc/grpc-js";
import Long from "long";
import protobuf from "protobufjs";
import { DEFAULT_MINOR, schemaPath } from "./k8s_versions.ts";
import { messageEncoder } from "./message_encoder.ts";

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

const DECODE: protobuf.IConversionOptions = { enums: Number, defaults: true };

function decoder(type: protobuf.Type) {
  return (buf: Uint8Array) => safeLongs(type.toObject(type.decode(buf), DECODE));
}

/**
 * protobufjs' `longs` option only knows String and Number: anything else leaves int64 fields as
 * Long objects. Precision matters (timestamps in ns), so each Long becomes a number when exact
 * and a decimal string otherwise.
 */
export function safeLongs(v: unknown): unknown {
  if (v instanceof Long) {
    const n = v.toNumber();
    return Number.isSafeInteger(n) ? n : v.toString();
  }
  if (Array.isArray(v)) return v.map(safeLongs);
  if (typeof v === "object" && v !== null && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = safeLongs(o[k]);
  }
  return v;
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
        requestSerialize: messageEncoder(req),
        requestDeserialize: decoder(req),
        responseSerialize: messageEncoder(res),
        responseDeserialize: decoder(res),
      };
      methods.push({ service, name: m.name, responseStream: !!m.responseStream });
    }
    definitions[service] = def;
  }
  return { minor, root, definitions, methods };
}
