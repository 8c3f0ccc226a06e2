/**
 * The queue's SQL, entity first; what a claim reads and writes is in `claim_sql.ts`. Every value
 * is a bound parameter; "now" is SQLite's `unixepoch()`, as in honker, so processes on different
 * runtimes agree on it.
 *
 * @module
 */

import { QUEUE_PAUSED } from "./settings_sql.ts";

/** Columns a claimed job carries back to the caller. */
export const JOB_COLUMNS =
  "id, queue, payload, state, priority, run_at, worker_id, claim_expires_at, attempts, " +
  "max_attempts, created_at, expires_at";

/**
 * One job. `run_at` precedence is honker's: a delay wins over an explicit run_at, which wins
 * over now; `unixepoch() + NULL` is NULL, which lets COALESCE pick.
 * Params: queue, payload, delayS, runAt, priority, maxAttempts, expiresS.
 */
export const JOB_INSERT = `INSERT INTO _honker_live
  (queue, payload, run_at, priority, max_attempts, expires_at)
  VALUES (?, ?, COALESCE(unixepoch() + ?, ?, unixepoch()), ?, ?, unixepoch() + ?)`;

/**
 * Many jobs in one statement: the payloads travel as one JSON array of JSON texts, and
 * json_each keeps array order, so ids ascend in payload order.
 * Params: queue, delayS, runAt, priority, maxAttempts, expiresS, payloadsJson.
 */
export const JOB_INSERT_MANY = `INSERT INTO _honker_live
  (queue, payload, run_at, priority, max_attempts, expires_at)
  SELECT ?, value, COALESCE(unixepoch() + ?, ?, unixepoch()), ?, ?, unixepoch() + ?
  FROM json_each(?) ORDER BY key
  RETURNING id`;

/** Ack: delete a row still held by this worker. Params: id, workerId. */
export const JOB_ACK = `DELETE FROM _honker_live
  WHERE id = ? AND worker_id = ? AND claim_expires_at >= unixepoch()`;

/** Ack many: ids as a JSON array (`honker_ack_batch`, any queue). Params: idsJson, workerId. */
export const JOB_ACK_MANY = `DELETE FROM _honker_live
  WHERE id IN (SELECT value FROM json_each(?)) AND worker_id = ? AND claim_expires_at >= unixepoch()`;

/** JOB_ACK_MANY, returning the ids it acked. Params: idsJson, workerId. */
export const JOB_ACK_MANY_RETURNING = `${JOB_ACK_MANY}
  RETURNING id`;

/**
 * Ack many of one queue's jobs: a worker id may serve several queues, and `queue.ackBatch()`
 * must not ack another queue's job. Params: idsJson, workerId, queue.
 */
export const JOB_ACK_MANY_IN_QUEUE = `${JOB_ACK_MANY} AND queue = ?`;

/** Retry that stays pending. Params: delayS, id, workerId. */
export const JOB_RETRY = `UPDATE _honker_live
  SET state = 'pending', run_at = unixepoch() + ?, worker_id = NULL, claim_expires_at = NULL
  WHERE id = ? AND worker_id = ? AND state = 'processing' AND claim_expires_at >= unixepoch()
    AND attempts < max_attempts`;

/** Retry out of attempts: remove the held row for the dead table. Params: id, workerId. */
export const JOB_DELETE_RETRY_EXHAUSTED = `DELETE FROM _honker_live
  WHERE id = ? AND worker_id = ? AND state = 'processing' AND claim_expires_at >= unixepoch()
    AND attempts >= max_attempts
  RETURNING ${JOB_COLUMNS}`;

/** Fail: remove the held row for the dead table. Params: id, workerId. */
export const JOB_DELETE_FAILED = `DELETE FROM _honker_live
  WHERE id = ? AND worker_id = ? AND claim_expires_at >= unixepoch()
  RETURNING ${JOB_COLUMNS}`;

/** Heartbeat: replace the claim expiry. Params: extendS, id, workerId. */
export const JOB_HEARTBEAT = `UPDATE _honker_live SET claim_expires_at = unixepoch() + ?
  WHERE id = ? AND worker_id = ? AND state = 'processing' AND claim_expires_at >= unixepoch()
  RETURNING claim_expires_at`;

/** Cancel, whoever holds it, whatever its queue (`honker_cancel`). Params: id. */
export const JOB_CANCEL = "DELETE FROM _honker_live WHERE id = ?";

/** Cancel one queue's job, whoever holds it (`queue.cancel()`). Params: id, queue. */
export const JOB_CANCEL_IN_QUEUE = "DELETE FROM _honker_live WHERE id = ? AND queue = ?";

/** One live row, whatever its queue (`honker_get_job`). Params: id. */
export const JOB_GET = `SELECT ${JOB_COLUMNS} FROM _honker_live WHERE id = ?`;

/** One live row of one queue (`queue.getJob()`). Params: id, queue. */
export const JOB_GET_IN_QUEUE = `${JOB_GET} AND queue = ?`;

/** Remove expired pending rows for the dead table. Params: queue. */
export const JOB_DELETE_EXPIRED = `DELETE FROM _honker_live
  WHERE queue = ? AND state = 'pending' AND expires_at IS NOT NULL AND expires_at <= unixepoch()
  RETURNING ${JOB_COLUMNS}`;

/**
 * Counts for one queue, and whether it is paused, in one read. `retrying` (pending after a retry)
 * and `stalled` (claims that expired, to be taken again) are subsets of `pending + scheduled` and
 * of `processing`. Params: queue × 7.
 */
export const JOB_STATS = `SELECT
  (SELECT count(*) FROM _honker_live WHERE queue = ? AND state = 'pending'
     AND run_at <= unixepoch()) AS pending,
  (SELECT count(*) FROM _honker_live WHERE queue = ? AND state = 'pending'
     AND run_at > unixepoch()) AS scheduled,
  (SELECT count(*) FROM _honker_live WHERE queue = ? AND state = 'processing') AS processing,
  (SELECT count(*) FROM _honker_dead WHERE queue = ?) AS dead,
  (SELECT count(*) FROM _honker_live WHERE queue = ? AND state = 'pending'
     AND attempts > 0) AS retrying,
  (SELECT count(*) FROM _honker_live WHERE queue = ? AND state = 'processing'
     AND claim_expires_at < unixepoch()) AS stalled,
  ${QUEUE_PAUSED} AS paused`;

/**
 * Insert one dead row, keeping the live id.
 * Params: id, queue, payload, priority, runAt, attempts, maxAttempts, lastError, createdAt.
 */
export const DEAD_INSERT = `INSERT INTO _honker_dead
  (id, queue, payload, priority, run_at, attempts, max_attempts, last_error, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Dead rows of a queue, newest first, below an id cursor. Params: queue, beforeId, limit. */
export const DEAD_LIST = `SELECT id, queue, payload, priority, run_at, attempts, max_attempts,
    last_error, created_at, died_at
  FROM _honker_dead WHERE queue = CAST(? AS TEXT) AND id < ?
  ORDER BY id DESC LIMIT CAST(? AS INTEGER)`;

/** Take one dead row out. Params: id, queue. */
export const DEAD_DELETE = `DELETE FROM _honker_dead WHERE id = ? AND queue = ?
  RETURNING id, queue, payload, priority, max_attempts`;

/** Purge old dead rows of a queue. Params: queue, olderThanS. */
export const DEAD_PURGE = "DELETE FROM _honker_dead WHERE queue = ? AND died_at <= unixepoch() - ?";

/** Upsert a result. Params: jobId, value, ttlS, ttlS. */
export const RESULT_UPSERT = `INSERT INTO _honker_results (job_id, value, expires_at)
  VALUES (?, ?, CASE WHEN ? > 0 THEN unixepoch() + ? ELSE NULL END)
  ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`;

/** A live (unexpired) result. Params: jobId. */
export const RESULT_GET = `SELECT value FROM _honker_results
  WHERE job_id = ? AND (expires_at IS NULL OR expires_at > unixepoch())`;

/** Delete expired results. */
export const RESULT_SWEEP =
  "DELETE FROM _honker_results WHERE expires_at IS NOT NULL AND expires_at <= unixepoch()";

/**
 * Release: give a held job back by expiring its claim now, exactly as if its visibility timeout
 * had run out (the next claim takes it, or dead-letters it when its attempts are used up).
 * Params: id, workerId.
 */
export const JOB_RELEASE = `UPDATE _honker_live SET claim_expires_at = unixepoch() - 1
  WHERE id = ? AND worker_id = ? AND state = 'processing' AND claim_expires_at >= unixepoch()`;

/**
 * Unclaim: give back jobs a worker claimed ahead (`work({ prefetch })`) and never started, as if
 * never claimed: pending again in their old place in line, the claim's attempt refunded (so a
 * job that never ran can never be dead-lettered for it). Only claims still held and unexpired.
 * Params: idsJson, workerId.
 */
export const JOB_UNCLAIM_MANY = `UPDATE _honker_live
  SET state = 'pending', worker_id = NULL, claim_expires_at = NULL, attempts = attempts - 1
  WHERE id IN (SELECT value FROM json_each(?)) AND worker_id = ? AND state = 'processing'
    AND claim_expires_at >= unixepoch() AND attempts > 0
  RETURNING id`;

/** Is the job still claimed by this worker (whether or not its claim has expired)? Params: id, workerId. */
export const JOB_HELD = `SELECT 1 AS held FROM _honker_live
  WHERE id = ? AND worker_id = ? AND state = 'processing'`;
