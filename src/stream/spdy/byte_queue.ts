/**
 * Bytes pushed in chunks, taken from the front. Chunks are kept as they came and only joined
 * when a read spans them, so a frame trickled in one byte at a time costs one copy, not one per
 * byte (a peer could otherwise make the parser quadratic with tiny TCP segments).
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  /** Index of the first live chunk: shifting the array per chunk would itself be quadratic. */
  private first = 0;
  private head = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The first n bytes (n <= length), left in the queue. */
  peek(n: number): Uint8Array {
    const first = this.chunks[this.first];
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    return this.gather(n, false);
  }

  /** Removes and returns the first n bytes (n <= length). */
  take(n: number): Uint8Array {
    const first = this.chunks[this.first];
    if (first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.advance(n);
      return out;
    }
    return this.gather(n, true);
  }

  /** Removes and returns at most n bytes from the first chunk, without joining chunks. */
  takeSome(n: number): Uint8Array {
    const first = this.chunks[this.first];
    if (!first) return new Uint8Array(0);
    const k = Math.min(n, first.length - this.head);
    const out = first.subarray(this.head, this.head + k);
    this.advance(k);
    return out;
  }

  private gather(n: number, consume: boolean): Uint8Array {
    if (n > this.total) throw new RangeError(`${n} bytes wanted, ${this.total} queued`);
    const out = new Uint8Array(n);
    let at = 0;
    let head = this.head;
    for (let i = this.first; at < n; i++) {
      const c = this.chunks[i];
      const k = Math.min(n - at, c.length - head);
      out.set(c.subarray(head, head + k), at);
      at += k;
      head = 0;
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.total -= n;
    while (n > 0) {
      const left = this.chunks[this.first].length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.first++;
      this.head = 0;
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
