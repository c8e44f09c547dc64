/**
 * Orders two nanosecond timestamps kept as decimal strings (createdAt of pods and containers):
 * shorter is earlier, then by characters. List calls sort every pod or container by it, and
 * parsing BigInts in the comparator cost 0.8 ms per ListContainers with 330 containers.
 */
export function compareNanos(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
