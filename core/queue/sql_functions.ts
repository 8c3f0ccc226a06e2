/**
 * honker's queue and result SQL functions (`honker_enqueue`, `honker_claim_batch`, …, and
 * `honker_bootstrap`), each calling the operation the TypeScript API calls, with honker's names,
 * argument order and return shapes. Registered by `core/sql_functions.ts`.
 *
 * @module
 */

import type { SqlFunction, SqliteDriver } from "../db/driver.ts";
import { fail, int, intOrNull, text } from "../db/sql_args.ts";
import { createSchema } from "../schema/schema.ts";
import * as ops from "./ops.ts";
import type { JobRow } from "./job_rows.ts";
import { deleteExpiredResults, readResult, upsertResult } from "./results.ts";

/** The JSON object honker returns for a claimed job (keys in serde's sorted order). */
function claimedJson(row: JobRow): Record<string, unknown> {
  return {
    attempts: row.attempts,
    claim_expires_at: row.claim_expires_at,
    id: row.id,
    payload: row.payload,
    queue: row.queue,
    worker_id: row.worker_id,
  };
}

/** The JSON object `honker_get_job` returns (keys in serde's sorted order). */
function jobJson(row: JobRow): Record<string, unknown> {
  return {
    attempts: row.attempts,
    claim_expires_at: row.claim_expires_at,
    created_at: row.created_at,
    expires_at: row.expires_at,
    id: row.id,
    max_attempts: row.max_attempts,
    payload: row.payload,
    priority: row.priority,
    queue: row.queue,
    run_at: row.run_at,
    state: row.state,
    worker_id: row.worker_id,
  };
}

/** name → [arity, implementation]. */
export function queueFunctions(d: SqliteDriver): Record<string, [number, SqlFunction]> {
  return {
    honker_bootstrap: [0, () => (createSchema(d), 1)],
    honker_enqueue: [7, (...a) => {
      const f = "honker_enqueue";
      return ops.enqueueJob(d, text(f, a, 0), text(f, a, 1), {
        runAt: intOrNull(f, a, 2),
        delayS: intOrNull(f, a, 3),
        priority: int(f, a, 4),
        maxAttempts: int(f, a, 5),
        expiresS: intOrNull(f, a, 6),
      });
    }],
    honker_claim_batch: [4, (...a) => {
      const f = "honker_claim_batch";
      const n = int(f, a, 2);
      // honker passes a negative n to LIMIT, claiming everything; that is refused here.
      if (n < 0) fail(f, `n must not be negative, got ${n}`);
      if (n === 0) return "[]";
      const rows = ops.claimJobs(d, text(f, a, 0), text(f, a, 1), n, int(f, a, 3));
      // honker's array comes in id order (its UPDATE … RETURNING walks the rowids).
      return JSON.stringify(rows.sort((x, y) => x.id - y.id).map(claimedJson));
    }],
    honker_ack: [2, (...a) => ops.ackJob(d, int("honker_ack", a, 0), text("honker_ack", a, 1))],
    honker_ack_batch: [2, (...a) => {
      const ids = JSON.parse(text("honker_ack_batch", a, 0)) as number[];
      return ops.ackJobs(d, ids, text("honker_ack_batch", a, 1));
    }],
    honker_retry: [4, (...a) => {
      const f = "honker_retry";
      return ops.retryJob(d, int(f, a, 0), text(f, a, 1), int(f, a, 2), text(f, a, 3));
    }],
    honker_fail: [
      3,
      (...a) =>
        ops.failJob(
          d,
          int("honker_fail", a, 0),
          text("honker_fail", a, 1),
          text("honker_fail", a, 2),
        ),
    ],
    honker_heartbeat: [3, (...a) => {
      const f = "honker_heartbeat";
      return ops.heartbeatJob(d, int(f, a, 0), text(f, a, 1), int(f, a, 2)) === undefined ? 0 : 1;
    }],
    honker_cancel: [1, (...a) => ops.cancelJob(d, int("honker_cancel", a, 0))],
    honker_get_job: [1, (...a) => {
      const row = ops.getJobRow(d, int("honker_get_job", a, 0));
      return row ? JSON.stringify(jobJson(row)) : "";
    }],
    honker_sweep_expired: [
      1,
      (...a) => ops.sweepExpiredJobs(d, text("honker_sweep_expired", a, 0)),
    ],
    honker_queue_next_claim_at: [
      1,
      (...a) => ops.nextClaimAt(d, text("honker_queue_next_claim_at", a, 0)),
    ],
    honker_result_save: [3, (...a) => {
      const f = "honker_result_save";
      return upsertResult(d, int(f, a, 0), text(f, a, 1), int(f, a, 2));
    }],
    honker_result_get: [1, (...a) => readResult(d, int("honker_result_get", a, 0))],
    honker_result_sweep: [0, () => deleteExpiredResults(d)],
  };
}
