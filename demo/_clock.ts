/**
 * A clock that processes on different runtimes can compare, with sub-millisecond resolution, for
 * measuring wake latency from one process to another.
 *
 * `Date.now()` agrees across processes (it is the system clock) but has millisecond steps.
 * `performance.now()` has microseconds but counts from each process's own start, and
 * `performance.timeOrigin` is taken from a coarse clock in some runtimes. So each process
 * aligns its `performance.now()` to the instant `Date.now()` ticks to the next millisecond: the
 * tick is caught between two `performance.now()` reads a fraction of a microsecond apart, which
 * puts this process's clock on the system clock to within a few microseconds (checked against
 * `clock_gettime(CLOCK_REALTIME)` on Deno and Bun; errors stayed under 0.06 ms).
 *
 * @module
 */

/** The system wall clock in milliseconds, with performance.now()'s resolution. */
export interface WallClock {
  /** Milliseconds since the Unix epoch, fractional. */
  now(): number;
  /** Half the width of the window the aligning tick was caught in, in microseconds. */
  readonly alignmentUs: number;
}

/** Catches one Date.now() tick; returns the offset to add to performance.now() and its window. */
function catchTick(): { offsetMs: number; widthMs: number } {
  const start = Date.now();
  let before = performance.now();
  let now = Date.now();
  while (now === start) {
    before = performance.now();
    now = Date.now();
  }
  const after = performance.now();
  return { offsetMs: now - (before + after) / 2, widthMs: after - before };
}

/**
 * Aligns this process's performance.now() to the system clock. Busy-waits for up to `ticks`
 * milliseconds, so call it once at start-up, before the work to be timed.
 */
export function alignedWallClock(ticks = 7): WallClock {
  let best = catchTick();
  for (let i = 1; i < ticks; i++) {
    const tick = catchTick();
    if (tick.widthMs < best.widthMs) best = tick;
  }
  const offsetMs = best.offsetMs;
  return {
    now: () => offsetMs + performance.now(),
    alignmentUs: (best.widthMs / 2) * 1000,
  };
}
