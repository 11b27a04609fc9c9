/**
 * An append-only byte buffer that doubles its capacity, so a peer that
 * dribbles a 64 KiB line one byte per packet costs O(n) copying, not O(n²).
 */
export class GrowBuffer {
  #buf: Uint8Array;
  #len = 0;

  constructor(initial = 256) {
    this.#buf = new Uint8Array(initial);
  }

  get length(): number {
    return this.#len;
  }

  /** The bytes held, as a view that the next append may invalidate. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  append(bytes: Uint8Array): void {
    const need = this.#len + bytes.length;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(bytes, this.#len);
    this.#len = need;
  }

  /** Drop the first `n` bytes. */
  consume(n: number): void {
    if (n >= this.#len) {
      this.#len = 0;
      return;
    }
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
  }

  clear(): void {
    this.#len = 0;
  }
}
