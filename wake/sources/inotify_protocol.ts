/**
 * What the inotify source and its worker thread share: the worker's start data and the
 * Int32 slots of their SharedArrayBuffer. Private to `wake/`.
 *
 * @module
 */

/** What the main thread hands the worker. */
export interface InotifyWorkerData {
  /** The directory to watch. */
  directory: string;
  /** The database file's name, and the names of its `-wal` and `-journal` files. */
  names: string[];
  /** The auto-mode probe file's name. */
  probeName: string;
  /** The eventfd the main thread writes to when it stops the source. */
  stopFd: number;
  /** Int32 slots, indexed by the `SLOT` constants. */
  shared: SharedArrayBuffer;
}

/** Int32 slots of the shared buffer. */
export const SLOT = {
  /** Bumped after every batch of events the main thread must look at. */
  COUNTER: 0,
  /** Set by the main thread to stop the worker. */
  STOP: 1,
  /** Events on the database file itself (a rename-over shows up here). */
  DATABASE_FILE: 2,
  /** Set once the auto-mode probe file's event was seen. */
  PROBE_SEEN: 3,
  /** Set when the watch could not be set up or was lost: the main thread falls back to polling. */
  FAILED: 4,
  /** Set once the watch is in place: events from then on are seen. */
  READY: 5,
  /**
   * 1 while the worker sends re-check ticks after an event; the main thread sets it to 0 (and
   * notifies it) once a probe saw the commit, or when it stops the source.
   */
  TICKING: 6,
  /**
   * Set by the main thread while nobody waits for other processes' commits: the worker stops
   * reading events (they queue in the kernel, the watch stays in place) until it is cleared and
   * the stop eventfd nudged; then it reads what queued meanwhile and reports it as usual.
   */
  PAUSED: 7,
} as const;

/** Number of Int32 slots. */
export const SLOT_COUNT = 8;

/**
 * After a batch of events, the worker bumps the counter again at these delays (ms, each after
 * the previous one) while `TICKING` stays 1: the main thread re-probes on each. A `-wal` event
 * arrives before the commit is visible, and Deno's main thread cannot sleep below a millisecond
 * accurately (its timers and `Atomics.waitAsync` overshoot by about 1 ms, libc's `usleep` on its
 * blocking pool by 0.2 ms and by several ms under load), while `Atomics.wait` in the worker does.
 * After every batch, not only when the main thread asks: ticks on request (the worker back in
 * poll() at once, ticking only once an event showed a commit on its way) saved 3–4 % of CPU per
 * job at 1,000 jobs/s on 4 × 8, but p50 went from 0.77 to 0.97 ms on Deno and from 0.53 to
 * 0.77 on Bun, p99 from 3.3–3.6 to 4.8–5.3 (`bench/ab.ts`, 4 pairs).
 */
export const TICK_DELAYS_MS: readonly number[] = [0.1, 0.1, 0.2, 0.4, 0.8];
