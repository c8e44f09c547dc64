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

/**
 * fn over a list, memoized per frozen source list: the services hand out their index's list
 * unchanged until a record is added, replaced or removed, so the kubelet's List every second maps
 * nothing. A list that is not frozen may still change, and is mapped every time.
 */
export function listMemo<S extends object, V>(
  fn: (s: S) => V,
): (list: readonly S[]) => readonly V[] {
  const memo = new WeakMap<readonly S[], readonly V[]>();
  return (list) => {
    if (!Object.isFrozen(list)) return list.map(fn);
    let out = memo.get(list);
    if (!out) memo.set(list, out = Object.freeze(list.map(fn)));
    return out;
  };
}
