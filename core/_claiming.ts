/**
 * The claim step behind `Queue.claimBatch()`: the claim statement(s), Job objects in claim
 * order, and the payload schema check that sends a job whose payload no longer validates to the
 * dead letters instead of handing it out. Private to `core/`.
 *
 * @module
 */

import type { DatabaseContext } from "./_context.ts";
import type { SqliteDriver } from "./driver.ts";
import { Job } from "./job.ts";
import { parseJson } from "./json.ts";
import * as ops from "./queue_ops.ts";
import type { JobRow } from "./queue_ops.ts";
import { JOB_CLAIM_PRECHECK, JOB_EXHAUSTED_PENDING_EXISTS } from "./queue_sql.ts";
import { checkPayload } from "./standard_schema.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";

/** What the claim needs to know about the queue. */
export interface ClaimTarget {
  readonly name: string;
  readonly visibilityTimeoutS: number;
  readonly schema: StandardSchemaV1 | undefined;
}

function byClaimOrder(a: Job<unknown>, b: Job<unknown>): number {
  return b.priority - a.priority || a.runAt - b.runAt || a.id - b.id;
}

function claimRows(
  ctx: DatabaseContext,
  driver: SqliteDriver,
  queue: ClaimTarget,
  workerId: string,
  n: number,
): JobRow[] {
  const { transactions } = ctx;
  const check = transactions.current
    ? undefined
    : driver.get<{ exhausted: number; claimable: number }>(JOB_CLAIM_PRECHECK, [
      queue.name,
      queue.name,
    ]);
  if (check === undefined || check.exhausted) {
    return transactions.atomic(() =>
      ops.claimJobs(driver, queue.name, workerId, n, queue.visibilityTimeoutS)
    );
  }
  // Nothing due: no write (a woken worker must not contend for the write lock for nothing).
  if (!check.claimable) {
    if (driver.get(JOB_EXHAUSTED_PENDING_EXISTS, [queue.name])) {
      transactions.atomic(() => ops.buryExhaustedPending(driver, queue.name));
    }
    return [];
  }
  // The common case in one autocommit statement: no expired claim is out of attempts.
  const rows = ops.claimJobRows(driver, queue.name, workerId, n, queue.visibilityTimeoutS);
  if (rows.length < n && driver.get(JOB_EXHAUSTED_PENDING_EXISTS, [queue.name])) {
    transactions.atomic(() => ops.buryExhaustedPending(driver, queue.name));
  }
  return rows;
}

/**
 * Claims up to `n` jobs for `workerId` and returns them in claim order. A `background` claim
 * (work(), claim()) waits only briefly for the write lock and throws a transient SqliteError
 * when the database is busy; an application's own claim waits up to its busy timeout.
 */
export function claimBatch<T>(
  ctx: DatabaseContext,
  queue: ClaimTarget,
  workerId: string,
  n: number,
  action: string,
  background = false,
): Job<T>[] {
  return background
    ? ctx.background(action, (driver) => claimJobs<T>(ctx, driver, queue, workerId, n, action))
    : claimJobs<T>(ctx, ctx.open(action), queue, workerId, n, action);
}

function claimJobs<T>(
  ctx: DatabaseContext,
  driver: SqliteDriver,
  queue: ClaimTarget,
  workerId: string,
  n: number,
  action: string,
): Job<T>[] {
  const jobs: Job<T>[] = [];
  // A job dead-lettered for its payload frees its slot: claim again until n are handed out or
  // the queue has nothing more due.
  for (let rejected = 1; rejected > 0 && jobs.length < n;) {
    const rows = claimRows(ctx, driver, queue, workerId, n - jobs.length);
    if (rows.length === 0) break;
    ctx.wrote();
    rejected = 0;
    for (const row of rows) {
      let payload = parseJson<unknown>(row.payload);
      if (queue.schema) {
        const checked = checkPayload(queue.schema, payload, action);
        if (!checked.ok) {
          rejected++;
          const job = new Job(ctx, row, payload, queue.visibilityTimeoutS);
          job.fail(`payload does not match the schema: ${checked.message}`);
          continue;
        }
        payload = checked.value;
      }
      jobs.push(new Job<T>(ctx, row, payload as T, queue.visibilityTimeoutS));
    }
  }
  // Sorted as Jobs, whose fields read faster than node:sqlite's rows.
  if (jobs.length > 1) jobs.sort(byClaimOrder);
  return jobs;
}
