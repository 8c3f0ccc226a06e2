/**
 * How a `work()` run gives jobs back to the queue: jobs claimed ahead and never started
 * (pending again, the attempt refunded), handlers abandoned after the grace period, and jobs
 * whose handler settled them inside the application's own transaction that then rolled back
 * (claims expired now, as if their visibility timeout had run out). Each write is retried while
 * the database is busy until the claim would lapse anyway.
 *
 * @module
 */

import { DatabaseClosedError, isTransientSqliteError } from "../db/errors.ts";
import { Job } from "./job.ts";
import type { JobOutcome } from "./job.ts";
import type { PrefetchedJob } from "./work_prefetch.ts";
import { retryWhileBusy } from "../wait/wait_loop.ts";
import type { Waker } from "../wait/waker.ts";

/** Whether `error` only means the claim will lapse by itself: the database closed or stayed busy. */
function lapses(error: unknown): boolean {
  return error instanceof DatabaseClosedError || isTransientSqliteError(error);
}

/**
 * Gives `held` back in one background write, retried while the database is busy until the
 * first of their claims would lapse anyway. A closed or still-busy database leaves the claims
 * to lapse at their visibility timeout (one attempt used); any other error goes to `error`.
 */
export async function giveBackHeld<T>(
  waker: Waker,
  held: readonly PrefetchedJob<T>[],
  error: (error: unknown) => void,
): Promise<void> {
  const jobs = held.map((h) => h.job);
  if (jobs.length === 0) return;
  const giveUpAt = jobs.reduce(
    (at, job) => Math.min(at, (job.claimExpiresAt + 1) * 1000),
    Infinity,
  );
  try {
    await retryWhileBusy(waker, () => Job.unclaimManyInBackground(jobs), { giveUpAt });
  } catch (thrown) {
    if (!lapses(thrown)) error(thrown);
  }
}

/** `giveBackHeld()` without waiting: a run that failed gives its held jobs back as it stops. */
export function giveBackHeldNow<T>(held: readonly PrefetchedJob<T>[]): void {
  const jobs = held.map((h) => h.job);
  if (jobs.length === 0) return;
  try {
    Job.unclaimManyInBackground(jobs);
  } catch {
    // A database that fails here too: the claims lapse at their visibility timeout.
  }
}

/**
 * Releases a job whose handler was abandoned after the grace period; true when the release
 * committed. Any error but a closed or busy database goes to `error`; the claim then lapses.
 */
export async function releaseAbandoned<T>(
  waker: Waker,
  job: Job<T>,
  error: (error: unknown) => void,
): Promise<boolean> {
  try {
    const giveUpAt = (job.claimExpiresAt + 1) * 1000;
    return await retryWhileBusy(waker, () => job.inBackground("release"), { giveUpAt });
  } catch (thrown) {
    if (!lapses(thrown)) error(thrown);
    return false;
  }
}

/**
 * The handler's own outcome, once it is sure. One it set inside the application's own
 * transaction on the shared connection is checked once that transaction ended: if the job is
 * still held by us, the application rolled its ack (or retry, or fail) back with its other
 * writes, so the job is given back to run again rather than acked by us ("lost").
 */
export async function confirmOwnOutcome<T>(
  waker: Waker,
  job: Job<T>,
  signal: AbortSignal,
): Promise<JobOutcome | "lost" | null> {
  if (job.outcome === null || !job.outcomeUncertain) return job.outcome;
  try {
    const held = await retryWhileBusy(waker, () => job.inBackground("held"), { signal });
    if (!held) return job.outcome;
    await retryWhileBusy(waker, () => job.inBackground("release"), {
      giveUpAt: (job.claimExpiresAt + 1) * 1000,
    });
  } catch (error) {
    if (!lapses(error)) throw error;
  }
  return "lost";
}
