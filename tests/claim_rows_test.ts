// A claim reads its rows as arrays where the driver has values() (core/queue/job_rows.ts) and
// through all() where it has not: both must hand out jobs exactly as stored, and work() must
// apply each job's own run options that come back with its claim, on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { JobTimeoutError } from "../mod.ts";
import type { Database, Job } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { sqlNow, withDb, withDbWithoutValues } from "./_db.ts";
import { eventually } from "./_helpers.ts";

/** Each way a claim can read its rows: a test body wrapped to run on a fresh Database. */
const READS = { "values()": withDb, "all()": withDbWithoutValues };

/** A claimed job's fields, as a plain object. */
function fieldsOf(job: Job<unknown>): Record<string, unknown> {
  return {
    id: job.id,
    queue: job.queue,
    payload: job.payload,
    workerId: job.workerId,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    runAt: job.runAt,
    createdAt: job.createdAt,
    expiresAt: job.expiresAt,
    claimExpiresAt: job.claimExpiresAt,
  };
}

/** The stored row of job `id`, as the fields a Job has. */
function storedFields(db: Database, id: number): Record<string, unknown> {
  type Stored = Record<string, string | number | null>;
  const row = db.driver.get<Stored>("SELECT * FROM _honker_live WHERE id = ?", [id])!;
  return {
    id: row.id,
    queue: row.queue,
    payload: JSON.parse(row.payload as string),
    workerId: row.worker_id,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    runAt: row.run_at,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    claimExpiresAt: row.claim_expires_at,
  };
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  for (const read of Object.keys(READS) as (keyof typeof READS)[]) {
    describe(`${entry.id}, rows through ${read}: claimed rows`, () => {
      it(
        "claimBatch() and claimOne() hand out every field as stored",
        { skip },
        READS[read](entry, (db) => {
          const q = db.queue<{ n: number }>("jobs");
          q.enqueue({ n: 1 }, { priority: 5, expiresS: 3600, maxAttempts: 7 });
          q.enqueue({ n: 2 });
          q.enqueue({ n: 3 }, { priority: -2 });
          const batch = q.claimBatch("worker-a", 2);
          const one = q.claimOne("worker-b");
          assert.deepEqual(batch.map((job) => job.payload.n), [1, 2], "claim order: priority");
          assert.equal(one?.payload.n, 3);
          for (const job of [...batch, one!]) {
            assert.deepEqual(fieldsOf(job), storedFields(db, job.id));
          }
        }),
      );

      it(
        "work() applies each job's own timeout and backoff, read with its claim",
        {
          skip,
          timeout: 30_000,
        },
        READS[read](entry, async (db) => {
          const q = db.queue<string>("jobs");
          const timed = q.enqueue("own options", {
            timeoutS: 1,
            backoff: { type: "fixed", delayS: 600 },
          });
          q.enqueue("worker's options");
          const errors: unknown[] = [];
          let acked = 0;
          const stop = new AbortController();
          const done = q.work(async (job, { signal }) => {
            if (job.payload === "worker's options") return void acked++;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, 5_000);
              signal.addEventListener("abort", () => (clearTimeout(timer), resolve()));
            });
          }, {
            concurrency: 2,
            signal: stop.signal,
            retryDelayS: 1,
            onError: (error) => void errors.push(error),
            idlePollMs: null,
          });
          await eventually(() => errors.length === 1 && acked === 1, 10_000, "both outcomes");
          stop.abort();
          assert.deepEqual(await done, { acked: 1, retried: 1, dead: 0, lost: 0 });
          assert.ok(errors[0] instanceof JobTimeoutError, String(errors[0]));
          const runAt = db.driver.get<{ run_at: number }>(
            "SELECT run_at FROM _honker_live WHERE id = ?",
            [timed],
          )!.run_at;
          // The job's own 600 s, not the worker's 1 s.
          assert.ok(runAt - sqlNow(db) >= 590, `retry due in ${runAt - sqlNow(db)} s`);
        }),
      );
    });
  }
}
