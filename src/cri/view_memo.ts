/**
 * Frozen views memoized per source object. List responses are encoded item by item, and a frozen
 * item's bytes are reused (message_encoder.ts), so an unchanged pod, container or image must come
 * back as the very same object. The source (metadata, an image record) is never changed in place,
 * only replaced; `part` is what can change without a new source (a state, the pinned flag).
 */
export class ViewMemo<K extends object, P, V> {
  readonly #views = new WeakMap<K, { part: P; view: V }>();

  get(source: K, part: P, make: () => V): V {
    const known = this.#views.get(source);
    if (known && known.part === part) return known.view;
    const view = Object.freeze(make());
    this.#views.set(source, { part, view });
    return view;
  }
}
