/**
 * When the fs-mode watcher follows the file: only while someone waits for another process's
 * commit, and for WATCH_LINGER_MS after the last such wait ended. While nobody waits — a worker
 * with a backlog, whose claims come back full, never waits — following the file only costs: every
 * other process's commit woke this one (a thread hop on Bun and Deno, a `data_version` read
 * everywhere). Four processes draining one file at concurrency 8 drained 1.6–1.8× as fast on Bun,
 * about 1.4× on Deno and 1.1× on Node with the watcher asleep (issue #16). The next wait wakes
 * it, and what it missed is caught up: once the watch is in place, and again at
 * RESUME_RECHECKS_MS.
 *
 * @module
 */

import { clearTimeout, setTimeout } from "node:timers";

/**
 * Milliseconds the watcher keeps following the file after the last wait ended: a worker between
 * two jobs of a trickle stops waiting while each runs, and must not pay a new watch per job.
 */
export const WATCH_LINGER_MS = 250;

/**
 * After the watcher wakes, another connection's commit is looked for at these delays (ms): one
 * written before the watch was in place raised its event unseen, and the catch-up when the watch
 * was in place may have come before that commit was visible.
 */
export const RESUME_RECHECKS_MS: readonly number[] = [1, 4, 16];

/** What the sleeper drives. */
export interface WatchSleeperHost {
  /** Stops following the file; false when it cannot sleep now (not in fs mode, say). */
  sleep(): boolean;
  /** Follows the file again (the watch's own catch-up runs once it is in place). */
  wake(): void;
  /** Looks once for another connection's commit (a no-op unless awake). */
  catchUp(): void;
}

/**
 * Puts the watcher to sleep WATCH_LINGER_MS after the last wait ended and wakes it at the next
 * one. It starts as after a wait: the wait that started the watcher, if it wants other
 * processes' commits, tells it at once; a busy backoff does not.
 */
export class WatchSleeper {
  readonly #host: WatchSleeperHost;
  /** When the last wait ended; undefined while one runs. */
  #unwatchedSince: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #asleep = false;
  #stopped = false;

  constructor(host: WatchSleeperHost) {
    this.#host = host;
    this.watched(false);
  }

  /** Whether a wait for other processes' commits runs (`Waker.onWatched`). */
  watched(watched: boolean): void {
    if (this.#stopped) return;
    if (!watched) {
      this.#unwatchedSince = performance.now();
      // One timer for every stretch without waits: a worker stops and starts waiting per job.
      if (this.#timer === undefined) this.#sleepAfter(WATCH_LINGER_MS);
      return;
    }
    this.#unwatchedSince = undefined;
    if (!this.#asleep) return;
    this.#asleep = false;
    this.#host.wake();
    // Referenced, unlike the linger: on Deno an unreferenced timer that is due does not wake a
    // loop blocked waiting for other work, and ran tens of milliseconds late. They end in 16 ms.
    for (const ms of RESUME_RECHECKS_MS) setTimeout(() => this.#host.catchUp(), ms);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #sleepAfter(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#unwatchedSince === undefined || this.#stopped) return; // a wait runs
      const left = this.#unwatchedSince + WATCH_LINGER_MS - performance.now();
      if (left > 0) this.#sleepAfter(left);
      else this.#asleep = this.#host.sleep();
    }, ms);
    this.#timer.unref();
  }
}
