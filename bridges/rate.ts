/**
 * A published-per-second figure over the last few seconds, for `stats()`.
 *
 * @module
 */

const SPAN_MS = 5_000;

/** Counts events and reports their rate over the last five seconds. */
export class RateMeter {
  #count = 0;
  #samples: Array<[atMs: number, count: number]> = [];

  /** Events counted so far. */
  get count(): number {
    return this.#count;
  }

  /** Counts `n` events now. */
  add(n = 1): void {
    this.#count += n;
    const now = Date.now();
    const last = this.#samples.at(-1);
    if (last === undefined || now - last[0] >= 100) this.#samples.push([now, this.#count]);
    else last[1] = this.#count;
    while (this.#samples.length > 2 && now - this.#samples[1][0] > SPAN_MS) this.#samples.shift();
  }

  /** Events per second over the last five seconds (0 when idle). */
  perS(): number {
    const now = Date.now();
    const first = this.#samples.find(([at]) => now - at <= SPAN_MS);
    if (first === undefined) return 0;
    const spanMs = Math.max(now - first[0], 1_000);
    return Math.round(((this.#count - first[1]) * 1000) / spanMs);
  }
}
