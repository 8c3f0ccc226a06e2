/**
 * What a job leaves behind besides its ack: the handler's return value as the job's result
 * (honker's `_honker_results`, stored in the ack's transaction, only when the ack succeeds), its
 * latest progress (`_honker_ts_job_progress`, freed by trigger once the job leaves
 * `_honker_live`), and the events only honker-ts can write (`failed` with the error, `progress`,
 * the `completed` event's result, `cancelled` for a claimed job).
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import {
  JOB_EVENT_FAILED,
  JOB_EVENT_PROGRESS,
  JOB_EVENT_SET_CANCELLED,
  JOB_EVENT_SET_RESULT,
  JOB_PROGRESS_GET,
  JOB_PROGRESS_UPSERT,
} from "./events_sql.ts";
import { upsertResult } from "./results.ts";

/** Default seconds a work() handler's return value is kept as the job's result: a day. */
export const RESULT_TTL_DEFAULT_S = 86_400;

/** A job and the claim it was handed out under. */
export interface HeldJob {
  readonly id: number;
  readonly queue: string;
  readonly workerId: string;
}

/** Results waiting for their job's ack: the JSON text and its TTL. */
const pendingResults = new WeakMap<HeldJob, { text: string; ttlS: number }>();

/**
 * Remembers a handler's return value for the job's ack, which stores it. `undefined` stores
 * nothing. A value JSON cannot hold faithfully (a class instance, a BigInt …) is not stored: the
 * job still completes, and the reason is reported on the console.
 */
export function rememberResult(job: HeldJob, value: unknown, ttlS: number, action: string): void {
  if (value === undefined) return;
  try {
    pendingResults.set(job, {
      text: toJsonText(value, `${action} (the result of job ${job.id})`),
      ttlS,
    });
  } catch (error) {
    console.error(`honker-ts: ${action}: the handler's return value is not stored:`, error);
  }
}

/** Whether the job's ack has a result to store (and so must run in a transaction). */
export function hasPendingResult(job: HeldJob): boolean {
  return pendingResults.has(job);
}

/**
 * After a successful ack, in its transaction: stores the remembered result and gives the
 * `completed` event it.
 */
export function storeResultOfAck(driver: SqliteDriver, job: HeldJob): void {
  const pending = pendingResults.get(job);
  // Kept until the job is collected: a batch rolled back (a busy database) is written again.
  if (pending === undefined) return;
  upsertResult(driver, job.id, pending.text, pending.ttlS);
  driver.run(JOB_EVENT_SET_RESULT, [pending.text, job.queue, job.id]);
}

/** Records the `failed` event of a held job, before its retry or fail (when events are on). */
export function recordFailure(driver: SqliteDriver, job: HeldJob, error: string): void {
  driver.run(JOB_EVENT_FAILED, [error, job.id, job.workerId]);
}

/**
 * Stores a held job's progress and records the `progress` event (when events are on). Returns
 * false when the claim is no longer ours. Must run in a transaction.
 */
export function saveProgress(driver: SqliteDriver, job: HeldJob, valueText: string): boolean {
  if (driver.run(JOB_PROGRESS_UPSERT, [valueText, job.id, job.workerId]).changes === 0) {
    return false;
  }
  driver.run(JOB_EVENT_PROGRESS, [valueText, job.id, job.workerId]);
  return true;
}

/** A live job's latest progress, or undefined. */
export function readProgress(driver: SqliteDriver, jobId: number): unknown {
  const row = driver.get<{ value: string }>(JOB_PROGRESS_GET, [jobId]);
  return row === undefined ? undefined : parseJson<unknown>(row.value);
}

/** After `queue.cancel()` deleted a claimed job: its event says cancelled, not completed. */
export function markCancelled(driver: SqliteDriver, queue: string, jobId: number): void {
  driver.run(JOB_EVENT_SET_CANCELLED, [queue, jobId]);
}
