/**
 * Response encoding. List responses carry one item per pod, container or image, and the kubelet
 * asks for them every second: with 330 containers protobufjs spent 3–4 ms per ListContainers
 * converting and encoding items that had not changed. A frozen item is a promise that it never
 * changes (the views in this directory freeze what they memoize), so its bytes are encoded once
 * and reused; any other item is encoded every time.
 */
import type protobuf from "protobufjs";
import { afterAnswer } from "../util/memory.ts";

/** A repeated field of messages (not a map): where items are reused. */
interface ItemField {
  readonly name: string;
  readonly tag: number;
  readonly type: protobuf.Type;
}

const itemBytes = new Map<protobuf.Type, WeakMap<object, Uint8Array>>();

function plain(type: protobuf.Type, value: unknown): Uint8Array {
  return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
}

function encodeItem(f: ItemField, item: unknown): Uint8Array {
  if (typeof item !== "object" || item === null || !Object.isFrozen(item)) {
    return plain(f.type, item);
  }
  let cache = itemBytes.get(f.type);
  if (!cache) itemBytes.set(f.type, cache = new WeakMap());
  let bytes = cache.get(item);
  if (!bytes) {
    // finish() may hand out a view of a shared pool; the cache keeps a copy of its own.
    bytes = plain(f.type, item).slice();
    cache.set(item, bytes);
  }
  return bytes;
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

function itemFields(type: protobuf.Type): ItemField[] {
  return type.fieldsArray
    .filter((f) => f.repeated && !f.map && f.resolvedType && "fieldsArray" in f.resolvedType)
    .map((f) => ({
      name: f.name,
      // Wire type 2: length-delimited.
      tag: f.id * 8 + 2,
      type: f.resolvedType as protobuf.Type,
    }));
}

/**
 * The grpc-js serializer for one message type. Fields are written in a different order than
 * protobufjs would (the others first, then each repeated message field), which every protobuf
 * parser accepts: repeated items keep their order.
 */
export function messageEncoder(type: protobuf.Type): (value: unknown) => Buffer {
  const fields = itemFields(type);
  const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (fields.length === 0) return (value) => toBuffer(plain(type, value));
  let last: Encoded | undefined;
  return (value) => {
    const rest: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const lists: unknown[][] = [];
    for (const f of fields) {
      const items = rest[f.name];
      delete rest[f.name];
      // A copy: the caller's array may be changed in place after the answer is sent.
      lists.push(Array.isArray(items) ? [...items] : []);
    }
    const head = plain(type, rest);
    // The same frozen items as last time (a list nothing changed in): the same bytes. grpc-js
    // copies the answer into its own frame, so handing the buffer out again is safe.
    const reused = last && sameItems(last, { head, lists }) ? last.out : undefined;
    const out = reused ?? assemble(head, { fields, lists });
    if (!reused) {
      last = lists.every((items) => items.every(isFrozen)) ? { head, lists, out } : undefined;
    }
    // Each answer is still copied by grpc-js and into the socket: garbage the collector counts.
    afterAnswer(out.length);
    return out;
  };
}

interface Encoded {
  head: Uint8Array;
  lists: unknown[][];
  out: Buffer;
}

function isFrozen(item: unknown): boolean {
  return typeof item === "object" && item !== null && Object.isFrozen(item);
}

function sameItems(last: Encoded, now: { head: Uint8Array; lists: unknown[][] }): boolean {
  if (last.head.length !== now.head.length || !last.head.every((b, i) => b === now.head[i])) {
    return false;
  }
  return last.lists.every((items, f) => {
    const other = now.lists[f];
    return items.length === other.length && items.every((item, i) => item === other[i]);
  });
}

function assemble(head: Uint8Array, o: { fields: ItemField[]; lists: unknown[][] }): Buffer {
  const parts: { tag: number; bytes: Uint8Array }[] = [];
  o.fields.forEach((f, i) => {
    for (const item of o.lists[i]) parts.push({ tag: f.tag, bytes: encodeItem(f, item) });
  });
  let size = head.length;
  for (const p of parts) {
    size += varintLength(p.tag) + varintLength(p.bytes.length) + p.bytes.length;
  }
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) {
    at = writeVarint(out, at, p.tag);
    at = writeVarint(out, at, p.bytes.length);
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}
