/**
 * Waiting for jobs (spec §2.12): claim, and when nothing is due, sleep until the next commit
 * from any process, the next known deadline (`nextClaimAt()`), or the idle poll.
 *
 * @module
 */

import { abortableIterator } from "./_abortable.ts";
import type { Job } from "./job.ts";
import { requireName, requireOptions } from "./validate.ts";
import { idlePollMs, SLEEP_CAP_MS, waitLoop } from "./wait_loop.ts";
import type { Waker } from "./waker.ts";

export { IDLE_POLL_DEFAULT_S, idlePollMs, SLEEP_CAP_MS } from "./wait_loop.ts";

/** Options for `queue.claim()`. */
export interface ClaimOptions {
  /**
   * Seconds between claim attempts when no wake arrives. `null` waits for wakes and deadlines
   * only (still re-checking at least every 30 s). Defaults to 5.
   */
  idlePollS?: number | null;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** The keys `claim()` accepts. */
export const CLAIM_OPTION_KEYS: readonly (keyof ClaimOptions)[] = ["idlePollS", "signal"];

/** What claiming needs of a queue: its name, a claim in the background, and its next deadline. */
export interface ClaimSource<T> {
  readonly name: string;
  /** Claims up to `n` jobs as a background write (a busy database throws a transient error). */
  claimInBackground(workerId: string, n: number): Job<T>[];
  /** Unix seconds of the next moment a claim could succeed, or 0. */
  nextClaimAt(): number;
}

/** How long to sleep when the queue has nothing due: until its next deadline, at most idleMs. */
export function claimSleepMs<T>(queue: ClaimSource<T>, idleMs: number): number {
  const next = queue.nextClaimAt();
  const untilDue = next > 0 ? Math.max(0, next * 1000 - Date.now()) : Infinity;
  return Math.min(idleMs, untilDue, SLEEP_CAP_MS);
}

/**
 * Waits until up to `n` jobs can be claimed for `workerId` and returns them, or undefined when
 * the signal aborts or the database closes. The one claim wait of `claim()` and `work()`.
 */
export function claimWhenDue<T>(
  queue: ClaimSource<T>,
  waker: Waker,
  workerId: string,
  n: number,
  options: { idleMs: number; signal?: AbortSignal },
): Promise<Job<T>[] | undefined> {
  return waitLoop(waker, () => {
    const jobs = queue.claimInBackground(workerId, n);
    return jobs.length > 0 ? jobs : undefined;
  }, { signal: options.signal, sleepMs: () => claimSleepMs(queue, options.idleMs) });
}

/** Yields jobs claimed one at a time for `workerId`; see `Queue.claim()`. */
export function claimIterator<T>(
  queue: ClaimSource<T>,
  waker: Waker,
  workerId: string,
  options?: ClaimOptions,
): AsyncIterableIterator<Job<T>> {
  const action = `claim from queue ${JSON.stringify(queue.name)}`;
  requireName(workerId, "workerId", action);
  const opts = requireOptions(options, action, CLAIM_OPTION_KEYS);
  const idleMs = idlePollMs(opts.idlePollS, action);
  return abortableIterator<Job<T>>(async (signal) => {
    const jobs = await claimWhenDue(queue, waker, workerId, 1, { idleMs, signal });
    return jobs?.[0];
  }, { signal: opts.signal });
}
