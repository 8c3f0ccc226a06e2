/**
 * Waiting for jobs: claim, and when nothing is due, sleep until the next commit
 * from any process, the next known deadline (learnt by the same look), or the idle poll.
 *
 * @module
 */

import { abortableIterator } from "../wait/abortable.ts";
import type { BackgroundClaimOptions, ClaimLook } from "./claiming.ts";
import type { Job } from "./job.ts";
import { requireName, requireOptions } from "../db/validate.ts";
import { idlePollMs, SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";
import type { Waker } from "../wait/waker.ts";

export { IDLE_POLL_DEFAULT_MS, idlePollMs, SLEEP_CAP_MS } from "../wait/wait_loop.ts";

/** Options for `queue.claim()`. */
export interface ClaimOptions {
  /**
   * Milliseconds between claim attempts when no wake arrives (at least 1). `null` waits for
   * wakes and deadlines only (still re-checking at least every 30 s). Defaults to 5000.
   */
  idlePollMs?: number | null;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** The keys `claim()` accepts. */
export const CLAIM_OPTION_KEYS: readonly (keyof ClaimOptions)[] = ["idlePollMs", "signal"];

/** What claiming needs of a queue: its name and a claim in the background. */
export interface ClaimSource<T> {
  readonly name: string;
  /**
   * Claims up to `n` jobs as a background write (a busy database throws a transient error);
   * when nothing more is due it also says when the next claim could succeed.
   */
  claimInBackground(workerId: string, n: number, options?: BackgroundClaimOptions): ClaimLook<T>;
}

/** After a look that raced another claimer and cannot say what comes next: look again soon. */
const RACED_LOOK_SLEEP_MS = 5;

/**
 * How long to sleep after a look that found nothing: until the next deadline it reported (unix
 * seconds, 0 for none), at most idleMs; briefly when it did not learn one.
 */
export function claimSleepMs(nextAt: number | undefined, idleMs: number): number {
  if (nextAt === undefined) return Math.min(idleMs, RACED_LOOK_SLEEP_MS);
  const untilDue = nextAt ? Math.max(0, nextAt * 1000 - Date.now()) : Infinity;
  return Math.min(idleMs, untilDue, SLEEP_CAP_MS);
}

/**
 * Waits until up to `n` jobs can be claimed for `workerId` and returns them, or undefined when
 * the signal aborts or the database closes. The claim wait of `claim()`.
 */
export function claimWhenDue<T>(
  queue: ClaimSource<T>,
  waker: Waker,
  workerId: string,
  n: number,
  options: { idleMs: number; signal?: AbortSignal },
): Promise<Job<T>[] | undefined> {
  let nextAt: number | undefined;
  return waitLoop(waker, () => {
    const look = queue.claimInBackground(workerId, n);
    nextAt = look.nextAt;
    return look.jobs.length > 0 ? look.jobs : undefined;
  }, { signal: options.signal, sleepMs: () => claimSleepMs(nextAt, options.idleMs) });
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
  const idleMs = idlePollMs(opts.idlePollMs, action);
  return abortableIterator<Job<T>>(async (signal) => {
    const jobs = await claimWhenDue(queue, waker, workerId, 1, { idleMs, signal });
    return jobs?.[0];
  }, { signal: opts.signal });
}
