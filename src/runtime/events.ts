/**
 * Container and pod lifecycle events for GetContainerEvents (the kubelet's evented PLEG).
 *
 * Each event carries a snapshot of the pod and its containers taken when it happened, as CRI-O
 * sends them. Every subscriber has its own bounded queue: a subscriber that does not read loses
 * the newest events (logged, as CRI-O logs a full channel) instead of growing memory, and never
 * holds back the others or the call that caused the event.
 */
import type { Logger } from "../log.ts";
import type { Pod } from "./sandbox/pod_state.ts";
import type { Container } from "./container/container_state.ts";

export type EventKind = "created" | "started" | "stopped" | "deleted";

export interface RuntimeEvent {
  readonly kind: EventKind;
  /** The container's id, or the pod's for the pod's own events. */
  readonly id: string;
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly at: string;
  readonly pod: Pod;
  readonly containers: readonly Container[];
}

/** Where the services report what happened; the hub turns it into events. */
export interface EventSink {
  emit(kind: EventKind, o: { id: string; podId: string }): void;
}

export interface EventHubOptions {
  /** The pod and its containers as they are now; no pod means no event (it is gone). */
  snapshot: (podId: string) => { pod?: Pod; containers: readonly Container[] };
  log: Logger;
  /** Nanoseconds since the epoch. */
  now?: () => bigint;
  /** Off (enable_pod_events = false): subscriptions end at once, as CRI-O's do. */
  enabled?: () => boolean;
  /** Events held per subscriber before the newest are dropped (CRI-O's channel holds 1000). */
  capacity?: number;
}

const DEFAULT_CAPACITY = 1000;

class Subscriber {
  readonly queue: RuntimeEvent[] = [];
  dropped = 0;
  wake?: () => void;
}

export class EventHub implements EventSink {
  readonly #o: EventHubOptions;
  readonly #subs = new Set<Subscriber>();

  constructor(o: EventHubOptions) {
    this.#o = o;
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  emit(kind: EventKind, o: { id: string; podId: string }): void {
    // Nobody listens: no snapshot is taken and nothing is kept.
    if (this.#subs.size === 0) return;
    const { pod, containers } = this.#o.snapshot(o.podId);
    if (!pod) return;
    const now = this.#o.now?.() ?? BigInt(Date.now()) * 1_000_000n;
    const ev: RuntimeEvent = { kind, id: o.id, at: now.toString(), pod, containers };
    const capacity = this.#o.capacity ?? DEFAULT_CAPACITY;
    for (const sub of this.#subs) {
      if (sub.queue.length >= capacity) {
        sub.dropped++;
        this.#o.log.warn("container event dropped: subscriber is not reading", {
          event: kind,
          id: o.id,
          dropped: sub.dropped,
        });
        continue;
      }
      sub.queue.push(ev);
      sub.wake?.();
    }
  }

  /**
   * Events from now on, until `signal` aborts. The subscriber joins at once, so nothing emitted
   * between this call and the first read is lost; an abort removes it even if never read.
   */
  subscribe(signal: AbortSignal): AsyncGenerator<RuntimeEvent> {
    const sub = new Subscriber();
    const leave = () => {
      this.#subs.delete(sub);
      sub.queue.length = 0;
      sub.wake?.();
    };
    if (this.#o.enabled?.() === false) {
      return this.#drain(sub, { signal: AbortSignal.abort(), leave });
    }
    if (!signal.aborted) {
      this.#subs.add(sub);
      signal.addEventListener("abort", leave, { once: true });
    }
    return this.#drain(sub, { signal, leave });
  }

  async *#drain(
    sub: Subscriber,
    o: { signal: AbortSignal; leave: () => void },
  ): AsyncGenerator<RuntimeEvent> {
    try {
      while (!o.signal.aborted) {
        const ev = sub.queue.shift();
        if (ev) {
          yield ev;
          continue;
        }
        await new Promise<void>((resolve) => (sub.wake = resolve));
        sub.wake = undefined;
      }
    } finally {
      o.signal.removeEventListener("abort", o.leave);
      o.leave();
    }
  }
}
