/**
 * The queue operations over a bare driver, with no transaction control and no
 * argument checks. Both the `Queue` API and the `honker_*` SQL functions call these, so the two
 * can never drift apart. Multi-statement operations must run inside a transaction (or inside the
 * statement calling an SQL function, which is atomic on its own).
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import {
  DEAD_INSERT,
  JOB_ACK,
  JOB_ACK_MANY,
  JOB_ACK_MANY_IN_QUEUE,
  JOB_ACK_MANY_RETURNING,
  JOB_CANCEL,
  JOB_CANCEL_IN_QUEUE,
  JOB_DELETE_EXPIRED,
  JOB_DELETE_FAILED,
  JOB_DELETE_RETRY_EXHAUSTED,
  JOB_GET,
  JOB_GET_IN_QUEUE,
  JOB_HEARTBEAT,
  JOB_HELD,
  JOB_INSERT,
  JOB_INSERT_MANY,
  JOB_RELEASE,
  JOB_RETRY,
  JOB_STATS,
  JOB_UNCLAIM_MANY,
} from "./sql.ts";
import {
  JOB_CLAIM,
  JOB_CLAIM_ONE,
  JOB_CLAIM_ONE_WITH_RUN_OPTIONS,
  JOB_CLAIM_WITH_RUN_OPTIONS,
  JOB_DELETE_EXHAUSTED_CLAIMS,
  JOB_DELETE_EXHAUSTED_PENDING,
  JOB_NEXT_CLAIM_AT,
} from "./claim_sql.ts";
import type { EnqueueTiming, JobInfo, QueueStats } from "./types.ts";
import { claimedRowsOf } from "./job_rows.ts";
import type { JobRow } from "./job_rows.ts";

/** `honker_enqueue`. Returns the new id. */
export function enqueueJob(
  driver: SqliteDriver,
  queue: string,
  payload: string,
  t: EnqueueTiming,
): number {
  return driver.run(JOB_INSERT, [
    queue,
    payload,
    t.delayS,
    t.runAt,
    t.priority,
    t.maxAttempts,
    t.expiresS,
  ]).lastInsertRowid;
}

/** Many jobs in one statement. Returns their ids in payload order. */
export function enqueueJobs(
  driver: SqliteDriver,
  queue: string,
  payloads: readonly string[],
  t: EnqueueTiming,
): number[] {
  const rows = driver.all<{ id: number }>(JOB_INSERT_MANY, [
    queue,
    t.delayS,
    t.runAt,
    t.priority,
    t.maxAttempts,
    t.expiresS,
    JSON.stringify(payloads),
  ]);
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

/** Moves rows just deleted from `_honker_live` into `_honker_dead` with the same ids. */
export function buryJobs(driver: SqliteDriver, rows: readonly JobRow[], lastError: string): void {
  for (const row of rows) {
    driver.run(DEAD_INSERT, [
      row.id,
      row.queue,
      row.payload,
      row.priority,
      row.run_at,
      row.attempts,
      row.max_attempts,
      lastError,
      row.created_at,
    ]);
  }
}

/** Dead-letters expired claims whose attempts are used up (claim step 1, processing rows). */
export function buryExhaustedClaims(driver: SqliteDriver, queue: string): number {
  const rows = driver.all<JobRow>(JOB_DELETE_EXHAUSTED_CLAIMS, [queue]);
  buryJobs(driver, rows, "max attempts exceeded");
  return rows.length;
}

/** Dead-letters due pending rows whose attempts are used up (claim step 1, pending rows). */
export function buryExhaustedPending(driver: SqliteDriver, queue: string): number {
  const rows = driver.all<JobRow>(JOB_DELETE_EXHAUSTED_PENDING, [queue]);
  buryJobs(driver, rows, "max attempts exceeded");
  return rows.length;
}

/**
 * The claim UPDATE alone. Rows come back in no promised order (UPDATE … RETURNING); with
 * `withRunOptions`, each also has the job's own `run_timeout_s` and `run_backoff` (or NULLs).
 * Read as arrays where the driver can (`job_rows.ts` says why).
 */
export function claimJobRows(
  driver: SqliteDriver,
  queue: string,
  workerId: string,
  n: number,
  timeoutS: number,
  withRunOptions = false,
): JobRow[] {
  const one = n === 1;
  const sql = withRunOptions
    ? (one ? JOB_CLAIM_ONE_WITH_RUN_OPTIONS : JOB_CLAIM_WITH_RUN_OPTIONS)
    : (one ? JOB_CLAIM_ONE : JOB_CLAIM);
  const params = one ? [workerId, timeoutS, queue, queue] : [workerId, timeoutS, queue, n, queue];
  if (driver.values === undefined) return driver.all<JobRow>(sql, params);
  return claimedRowsOf(driver.values(sql, params), withRunOptions);
}

/**
 * `honker_claim_batch`: dead-letter exhausted rows, then claim up to n.
 *
 * Exhausted due pending rows are dead-lettered only when the claim came back short: until then
 * they sit behind claimable work and are skipped by the claim anyway, and looking for them
 * earlier would scan the whole backlog on every claim (honker's O(depth) claim).
 */
export function claimJobs(
  driver: SqliteDriver,
  queue: string,
  workerId: string,
  n: number,
  timeoutS: number,
): JobRow[] {
  buryExhaustedClaims(driver, queue);
  const rows = claimJobRows(driver, queue, workerId, n, timeoutS);
  if (rows.length < n) buryExhaustedPending(driver, queue);
  return rows;
}

/** `honker_ack`. */
export function ackJob(driver: SqliteDriver, id: number, workerId: string): number {
  return driver.run(JOB_ACK, [id, workerId]).changes;
}

/** `honker_ack_batch`: any queue's jobs. */
export function ackJobs(driver: SqliteDriver, ids: readonly number[], workerId: string): number {
  return driver.run(JOB_ACK_MANY, [JSON.stringify(ids), workerId]).changes;
}

/** Acks many jobs of one worker in one statement; returns the ids that were still its own. */
export function ackJobsReturningIds(
  driver: SqliteDriver,
  ids: readonly number[],
  workerId: string,
): Set<number> {
  const params = [JSON.stringify(ids), workerId];
  // As arrays where the driver can: work() acks up to a whole claim's jobs at once.
  if (driver.values !== undefined) {
    return new Set(
      driver.values(JOB_ACK_MANY_RETURNING, params).map((cells) => cells[0] as number),
    );
  }
  return new Set(driver.all<{ id: number }>(JOB_ACK_MANY_RETURNING, params).map((row) => row.id));
}

/** `queue.ackBatch()`: only `queue`'s jobs. */
export function ackQueueJobs(
  driver: SqliteDriver,
  queue: string,
  ids: readonly number[],
  workerId: string,
): number {
  return driver.run(JOB_ACK_MANY_IN_QUEUE, [JSON.stringify(ids), workerId, queue]).changes;
}

/** `honker_retry`: back to pending after a delay, or dead when attempts are used up. */
export function retryJob(
  driver: SqliteDriver,
  id: number,
  workerId: string,
  delayS: number,
  error: string,
): number {
  if (driver.run(JOB_RETRY, [delayS, id, workerId]).changes > 0) return 1;
  const rows = driver.all<JobRow>(JOB_DELETE_RETRY_EXHAUSTED, [id, workerId]);
  buryJobs(driver, rows, error);
  return rows.length;
}

/** `honker_fail`: straight to dead, whatever the attempts. */
export function failJob(driver: SqliteDriver, id: number, workerId: string, error: string): number {
  const rows = driver.all<JobRow>(JOB_DELETE_FAILED, [id, workerId]);
  buryJobs(driver, rows, error);
  return rows.length;
}

/** `honker_heartbeat`: the new claim expiry, or undefined when the claim was not ours. */
export function heartbeatJob(
  driver: SqliteDriver,
  id: number,
  workerId: string,
  extendS: number,
): number | undefined {
  return driver.get<{ claim_expires_at: number }>(JOB_HEARTBEAT, [extendS, id, workerId])
    ?.claim_expires_at;
}

/** `honker_cancel`: any queue's job. */
export function cancelJob(driver: SqliteDriver, id: number): number {
  return driver.run(JOB_CANCEL, [id]).changes;
}

/** `queue.cancel()`: only a job of `queue`. */
export function cancelQueueJob(driver: SqliteDriver, queue: string, id: number): number {
  return driver.run(JOB_CANCEL_IN_QUEUE, [id, queue]).changes;
}

/** `honker_get_job`: the live row, whatever its queue, or undefined. */
export function getJobRow(driver: SqliteDriver, id: number): JobRow | undefined {
  return driver.get<JobRow>(JOB_GET, [id]);
}

/** `queue.getJob()`: the live row if it belongs to `queue`, or undefined. */
export function getQueueJobRow(
  driver: SqliteDriver,
  queue: string,
  id: number,
): JobRow | undefined {
  return driver.get<JobRow>(JOB_GET_IN_QUEUE, [id, queue]);
}

/** `queue.getJob()`: a live row as reported, its payload already decoded (and validated). */
export function toJobInfo<T>(row: JobRow, payload: T): JobInfo<T> {
  return {
    id: row.id,
    queue: row.queue,
    payload,
    state: row.state as JobInfo["state"],
    priority: row.priority,
    runAt: row.run_at,
    workerId: row.worker_id,
    claimExpiresAt: row.claim_expires_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** `honker_sweep_expired`: expired pending rows to dead with reason 'expired'. */
export function sweepExpiredJobs(driver: SqliteDriver, queue: string): number {
  const rows = driver.all<JobRow>(JOB_DELETE_EXPIRED, [queue]);
  buryJobs(driver, rows, "expired");
  return rows.length;
}

/** `honker_queue_next_claim_at`: unix seconds, or 0 when nothing is coming. */
export function nextClaimAt(driver: SqliteDriver, queue: string): number {
  const row = driver.get<{ t: number | null }>(JOB_NEXT_CLAIM_AT, [queue, queue, queue]);
  return row?.t ?? 0;
}

/** `queue.stats()`: counts of pending, scheduled, processing and dead jobs, and paused. */
export function queueStats(driver: SqliteDriver, queue: string): QueueStats {
  type Row = Omit<QueueStats, "paused"> & { paused: number; [column: string]: number };
  const row = driver.get<Row>(JOB_STATS, Array(7).fill(queue));
  return {
    pending: row?.pending ?? 0,
    scheduled: row?.scheduled ?? 0,
    processing: row?.processing ?? 0,
    dead: row?.dead ?? 0,
    retrying: row?.retrying ?? 0,
    stalled: row?.stalled ?? 0,
    paused: row?.paused === 1,
  };
}

/** Gives a held job back at once (its claim expires now); see JOB_RELEASE. */
export function releaseJob(driver: SqliteDriver, id: number, workerId: string): number {
  return driver.run(JOB_RELEASE, [id, workerId]).changes;
}

/** Gives back jobs claimed ahead and never started; returns the ids it gave back. */
export function unclaimJobs(
  driver: SqliteDriver,
  ids: readonly number[],
  workerId: string,
): Set<number> {
  const rows = driver.all<{ id: number }>(JOB_UNCLAIM_MANY, [JSON.stringify(ids), workerId]);
  return new Set(rows.map((row) => row.id));
}

/** Whether `workerId` still holds the job (see JOB_HELD). */
export function isJobHeld(driver: SqliteDriver, id: number, workerId: string): boolean {
  return driver.get(JOB_HELD, [id, workerId]) !== undefined;
}
