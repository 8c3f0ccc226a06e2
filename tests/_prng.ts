/**
 * mulberry32: a small, fast, seedable 32-bit PRNG, uniform in [0, 1) and the same on every
 * runtime, so a seed replays exactly. Shared by the property, differential and cron tests and
 * the benchmarks.
 *
 * @module
 */

/** Returns a generator of numbers in [0, 1) determined by `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
