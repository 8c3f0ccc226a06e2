/**
 * Unique jobs: the keyed enqueue and the key lookup, over a bare driver. The enqueue is two
 * statements (take the key for the id the job is about to get, insert the job) and must run
 * inside a write transaction (the caller's, joined, or its own), so that both commit together.
 *
 * Why it is race-free across processes: the key row's primary key `(queue, key)`, not a read
 * before the write. The first statement is an UPSERT that either inserts the row, takes over a
 * stale one, or changes nothing (and returns nothing) because a live job holds the key; SQLite's
 * write lock orders two enqueuers, and the second meets the first one's committed row.
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
  JOB_KEY_SET_JOB,
  JOB_KEY_TAKE,
  JOB_KEYS_SWEEP,
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
  const taken = driver.get<{ job_id: number }>(JOB_KEY_TAKE, [
    queue,
    plan.key,
    plan.mode,
    plan.ttlS,
    plan.maxWaitS,
  ]);
  if (taken !== undefined) {
    const runs = plan.debounceS === null ? timing : { ...timing, delayS: quietS(plan.debounceS) };
    const id = enqueueJob(driver, queue, payload, runs);
    if (id !== taken.job_id) driver.run(JOB_KEY_SET_JOB, [id, queue, plan.key]);
    return { id, created: true, wrote: true };
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

/** Deletes the rows of `queue`'s throttle windows that have passed. Returns how many. */
export function sweepJobKeys(driver: SqliteDriver, queue: string): number {
  return driver.run(JOB_KEYS_SWEEP, [queue]).changes;
}
