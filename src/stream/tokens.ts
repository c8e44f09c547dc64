/**
 * Single-use tokens for streaming URLs, as the kubelet's streaming request cache: a token lives one
 * minute, is gone once consumed (even when it had expired), and at most 1000 are outstanding. At the
 * limit the expired ones are dropped first; if all 1000 are still live the call is refused with
 * ResourceExhausted ("maximum number of in-flight requests exceeded"), it never evicts a live one.
 */
import { ResourceExhaustedError } from "../errors.ts";

export const TOKEN_TTL_MS = 60_000;
export const MAX_IN_FLIGHT = 1000;

export interface TokenCacheOptions {
  /** Milliseconds since the epoch; injected so tests can move time. */
  now?: () => number;
  ttlMs?: number;
  maxInFlight?: number;
}

export class TokenCache<T> {
  // Map keeps insertion order, which is expiry order since the TTL is fixed.
  readonly #entries = new Map<string, { value: T; expires: number }>();
  readonly #now: () => number;
  readonly #ttl: number;
  readonly #max: number;

  constructor(o: TokenCacheOptions = {}) {
    this.#now = o.now ?? Date.now;
    this.#ttl = o.ttlMs ?? TOKEN_TTL_MS;
    this.#max = o.maxInFlight ?? MAX_IN_FLIGHT;
  }

  get size(): number {
    return this.#entries.size;
  }

  insert(value: T): string {
    this.#gc();
    if (this.#entries.size >= this.#max) {
      throw new ResourceExhaustedError("maximum number of in-flight requests exceeded");
    }
    let token = newToken();
    // 48 random bits: a clash is very unlikely, but a reused token would hand one caller another's.
    while (this.#entries.has(token)) token = newToken();
    this.#entries.set(token, { value, expires: this.#now() + this.#ttl });
    return token;
  }

  /** The request behind a token, once; undefined when unknown, used or expired. */
  consume(token: string): T | undefined {
    const e = this.#entries.get(token);
    if (!e) return undefined;
    this.#entries.delete(token);
    return this.#now() > e.expires ? undefined : e.value;
  }

  #gc(): void {
    const now = this.#now();
    for (const [token, e] of this.#entries) {
      if (now <= e.expires) return;
      this.#entries.delete(token);
    }
  }
}

/** 8 URL-safe characters from 6 random bytes, as the kubelet's tokens. */
function newToken(): string {
  const raw = crypto.getRandomValues(new Uint8Array(6));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_");
}
