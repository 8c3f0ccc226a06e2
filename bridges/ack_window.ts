/**
 * The offsets a bridge has read and not yet confirmed, in read order. Acknowledgements arrive in
 * any order; the position the bridge may save is the end of the acknowledged prefix, never past
 * an offset still in flight, so a crash can only make it publish again (with the same id), never
 * skip.
 *
 * @module
 */

/** Read offsets in order, each acknowledged or not. */
export class AckWindow {
  #offsets: number[] = [];
  #acked = new Set<number>();
  #head = 0;
  #position: number;

  /** Starts after `position`: everything at or below it counts as acknowledged. */
  constructor(position: number) {
    this.#position = position;
  }

  /** The end of the acknowledged prefix: every offset read up to it is acknowledged. */
  get position(): number {
    return this.#position;
  }

  /** Offsets read and not yet acknowledged. */
  get inFlight(): number {
    return this.#offsets.length - this.#head - this.#acked.size;
  }

  /** Records an offset read (offsets come in increasing order). */
  add(offset: number): void {
    this.#offsets.push(offset);
  }

  /** Records an acknowledgement and moves the prefix as far as it now reaches. */
  ack(offset: number): void {
    this.#acked.add(offset);
    while (this.#head < this.#offsets.length && this.#acked.has(this.#offsets[this.#head])) {
      this.#position = this.#offsets[this.#head];
      this.#acked.delete(this.#position);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#offsets.length) {
      this.#offsets = this.#offsets.slice(this.#head);
      this.#head = 0;
    }
  }
}
