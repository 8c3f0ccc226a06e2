/**
 * How far a child process's clock is from this one's, measured through its stdio pipe: the
 * benchmarks stamp an event in one process and see it in another, and each process's wall clock
 * (`wallClock()`: `performance.now()` plus an offset read from `Date.now()` at its start) is only
 * as right as the system clock was then. A system clock being slewed (this VM's ran 5 ms a second
 * fast against the monotonic clock for minutes on 2026-12-08) puts a different offset into every
 * process started at a different moment: 1–2 ms between a producer and a worker started a few
 * hundred milliseconds apart, more than the latency measured. `performance.now()` itself runs at
 * the same rate in every process, so an offset measured once holds for the whole run.
 *
 * The child answers `ping` with `{pong: its clock.now()}`; the offset is taken from the ping with
 * the shortest round trip, and is right within half that round trip (the bound).
 *
 * @module
 */

import type { Child } from "./_wake_child.ts";
import type { WallClock } from "./_wake_common.ts";

/** Pings per measurement: enough for one round trip near the pipe's floor. */
export const PINGS = 20;

/** A child's clock minus this process's, and how far off that can be (half a round trip). */
export interface PipeOffset {
  offsetMs: number;
  boundMs: number;
}

/**
 * Measures `child`'s clock against `clock` with `pings` pings. Call it only while nothing else
 * waits for the child's messages (a Child serves one `expect()` at a time).
 */
export async function pipeOffset(
  child: Child,
  clock: WallClock,
  pings = PINGS,
): Promise<PipeOffset> {
  let best: PipeOffset = { offsetMs: NaN, boundMs: Infinity };
  for (let i = 0; i < pings; i++) {
    const sent = clock.now();
    child.send("ping");
    const { pong } = await child.expect(["pong"], 5000);
    const received = clock.now();
    const bound = (received - sent) / 2;
    if (bound < best.boundMs) {
      best = { offsetMs: (pong as number) - (sent + received) / 2, boundMs: bound };
    }
  }
  return best;
}
