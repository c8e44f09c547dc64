/**
 * Exact-length reads over a byte stream, without copying file bodies: the tar reader asks for
 * 512-byte headers and then hands body chunks straight through.
 */
export class ByteReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #done = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#done = true;
      return false;
    }
    if (this.#buf.length === 0) this.#buf = value;
    else {
      const joined = new Uint8Array(this.#buf.length + value.length);
      joined.set(this.#buf);
      joined.set(value, this.#buf.length);
      this.#buf = joined;
    }
    return true;
  }

  /** n bytes, or null at a clean end of stream; throws on a truncated read. */
  async exact(n: number): Promise<Uint8Array | null> {
    while (this.#buf.length < n) {
      if (!(await this.#fill())) {
        if (this.#buf.length === 0) return null;
        throw new Error(`unexpected end of stream: wanted ${n} bytes, got ${this.#buf.length}`);
      }
    }
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  /** Up to n bytes of whatever is buffered or arrives next; never more than n. */
  async some(n: number): Promise<Uint8Array> {
    if (this.#buf.length === 0 && !(await this.#fill())) {
      throw new Error(`unexpected end of stream: ${n} more bytes expected`);
    }
    const take = Math.min(n, this.#buf.length);
    const out = this.#buf.subarray(0, take);
    this.#buf = this.#buf.subarray(take);
    return out;
  }

  /** Reads and discards everything left (so that digests over the stream complete). */
  async drain(): Promise<number> {
    let n = this.#buf.length;
    this.#buf = new Uint8Array(0);
    while (await this.#fill()) {
      n += this.#buf.length;
      this.#buf = new Uint8Array(0);
    }
    return n;
  }

  async cancel(reason?: unknown): Promise<void> {
    await this.#reader.cancel(reason).catch(() => {});
  }
}
