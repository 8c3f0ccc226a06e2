/**
 * Unique jobs: the keyed enqueue, the key lookup and the sweep of stale key rows, over a bare
 * driver. A new key costs two statements (take the key for the id the job is about to get,
 * insert the job), which must run inside a write transaction (the caller's, joined, or its
 * own), so that both commit together; a duplicate costs the UPSERT and one read.
 *
 * Why it is race-free across processes: the key row's primary key `(queue, key)`, not a read
 * before the write. The first statement is an UPSERT that either inserts the row, takes over a
 * stale one, or changes nothing because a live job holds the key; SQLite's write lock orders two
 * enqueuers, and the second meets the first one's committed row.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { enqueueJob } from "./ops.ts";
import type { EnqueueTiming } from "./types.ts";
import type { JobKeyPlan } from "./job_keys_options.ts";
import {
  JOB_KEY_DEBOUNCE,
  JOB_KEY_GET,
  JOB_KEY_LIVE_JOB,
  JOB_KEY_TAKE,
  JOB_KEYS_SWEEP,
  JOB_KEYS_SWEEP_ALL,
  JOB_KEYS_SWEEP_CHUNK,
} from "./job_keys_sql.ts";
import type { JobKeyMode } from "./job_keys_sql.ts";

/** What a keyed enqueue did, from `queue.enqueueUnique()`. */
export interface UniqueEnqueue {
  /** The new job's id, or the id of the job holding the key. */
  id: number;
  /**
   * True when a new job was added; false for a duplicate (dropped, or for debounce, folded
   * into the pending job).
   */
  created: boolean;
}

/** A keyed enqueue's outcome, and whether it wrote anything (a debounced duplicate does). */
export interface KeyedOutcome extends UniqueEnqueue {
  wrote: boolean;
}

/**
 * The delay that leaves at least `debounceS` seconds of quiet after a duplicate. SQLite's clock
 * ticks in whole seconds, so `unixepoch() + debounceS` could fall due a moment after the
 * duplicate (sent late in a second); one second more makes it debounceS to debounceS + 1 s.
 */
function quietS(debounceS: number): number {
  return debounceS === 0 ? 0 : debounceS + 1;
}

/**
 * Enqueues `payload` under `plan.key`, or folds it into the job holding the key. Must run in a
 * write transaction.
 */
export function enqueueKeyed(
  driver: SqliteDriver,
  queue: string,
  payload: string,
  timing: EnqueueTiming,
  plan: JobKeyPlan,
): KeyedOutcome {
  const taken = driver.run(JOB_KEY_TAKE, [queue, plan.key, plan.mode, plan.ttlS, plan.maxWaitS]);
  if (taken.changes > 0) {
    const runs = plan.debounceS === null ? timing : { ...timing, delayS: quietS(plan.debounceS) };
    return { id: enqueueJob(driver, queue, payload, runs), created: true, wrote: true };
  }
  type Held = { job_id: number; mode: JobKeyMode; fire_by: number | null };
  const held = driver.get<Held>(JOB_KEY_GET, [queue, plan.key]);
  if (held === undefined) throw new Error("unreachable: a key row neither taken nor held");
  if (plan.debounceS === null || held.mode !== "debounce") {
    return { id: held.job_id, created: false, wrote: false };
  }
  const delayS = quietS(plan.debounceS);
  driver.run(JOB_KEY_DEBOUNCE, [
    plan.replacePayload ? 1 : 0,
    payload,
    delayS,
    held.fire_by,
    delayS,
    held.job_id,
  ]);
  return { id: held.job_id, created: false, wrote: true };
}

/** The id of the live job holding `key` in `queue`, or null. */
export function liveJobForKey(driver: SqliteDriver, queue: string, key: string): number | null {
  return driver.get<{ id: number }>(JOB_KEY_LIVE_JOB, [queue, key])?.id ?? null;
}

/**
 * Deletes up to `limit` stale key rows of `queue` (job gone or, for debounce, claimed, and no
 * throttle window running). Returns how many.
 */
export function sweepJobKeys(
  driver: SqliteDriver,
  queue: string,
  limit: number = JOB_KEYS_SWEEP_CHUNK,
): number {
  return driver.run(JOB_KEYS_SWEEP, [queue, queue, limit]).changes;
}

/** Deletes up to `limit` stale key rows of every queue. Returns how many. */
export function sweepAllJobKeys(
  driver: SqliteDriver,
  limit: number = JOB_KEYS_SWEEP_CHUNK,
): number {
  return driver.run(JOB_KEYS_SWEEP_ALL, [limit]).changes;
}
