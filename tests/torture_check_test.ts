// The torture run's batch checks (tests/torture/_check.ts checkBatch) against a small file that
// work() completed like a batch worker does: no violation on the real file, and each way the
// file could be wrong (a job completed twice, lost, a result of another attempt, a completion
// without a run that returned or by a worker that did not claim it, a claim handed out twice, a
// failed event without a throw, a job left live, a result for a job that did not complete)
// named by its check.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Database } from "../mod.ts";
import { withDb } from "./_db.ts";
import { driverMatrix } from "./_drivers.ts";
import { checkBatch } from "./torture/_check.ts";
import {
  BATCH_ENQUEUED_INSERT,
  BATCH_QUEUE,
  BATCH_RUN_END,
  BATCH_RUN_INSERT,
  TORTURE_DDL,
} from "./torture/_shared.ts";
import type { BatchResult, JobPayload } from "./torture/_shared.ts";

const WORKER = "w-1";

/** Four batch jobs, the second failing its first attempt, worked as batch_worker.ts does. */
async function completedFile(db: Database): Promise<number[]> {
  db.driver.exec(TORTURE_DDL);
  const q = db.queue<JobPayload>(BATCH_QUEUE, { events: true, resultTtlS: 0, maxAttempts: 5 });
  const ids = [0, 1, 2, 3].map((i) =>
    db.transaction((tx) => {
      const atMs = Date.now();
      const id = q.enqueue({ id: `p:${i}`, atMs }, { tx });
      tx.run(BATCH_ENQUEUED_INSERT, [`p:${i}`, id, "p", atMs]);
      return id;
    })
  );
  const stop = new AbortController();
  let returned = 0;
  const end = (outcome: string, id: number, attempt: number) =>
    db.transaction((tx) => tx.run(BATCH_RUN_END, [outcome, Date.now(), id, attempt, WORKER]));
  await q.work(async (job): Promise<BatchResult> => {
    db.transaction((tx) => tx.run(BATCH_RUN_INSERT, [job.id, WORKER, job.attempts, Date.now()]));
    await null;
    if (job.payload.id === "p:1" && job.attempts === 1) {
      end("threw", job.id, job.attempts);
      throw new Error("first attempt fails");
    }
    end("returned", job.id, job.attempts);
    if (++returned === 4) setTimeout(() => stop.abort(), 20);
    return { payloadId: job.payload.id, attempt: job.attempts, worker: WORKER };
  }, {
    workerId: WORKER,
    concurrency: 4,
    retryDelayS: 0,
    signal: stop.signal,
    onError: () => {},
  });
  return ids;
}

/** The violations checkBatch reports after `tamper`, which is rolled back afterwards. */
function violationsAfter(db: Database, tamper: string): string[] {
  const violations: string[] = [];
  db.driver.exec("BEGIN");
  try {
    db.driver.exec(tamper);
    checkBatch(db, violations);
  } finally {
    db.driver.exec("ROLLBACK");
  }
  return violations;
}

for (const entry of driverMatrix()) {
  describe(`${entry.id}: the torture run's batch checks`, () => {
    it(
      "pass on a file work() completed, and name every kind of wrong file",
      { skip: entry.skip, timeout: 30_000 },
      withDb(entry, async (db) => {
        const ids = await completedFile(db);
        const clean: string[] = [];
        const stats = checkBatch(db, clean);
        assert.deepEqual(clean, []);
        assert.equal(stats.enqueued, 4);
        assert.equal(stats.completed, 4);
        assert.equal(stats.runs, 5);
        assert.equal(stats.threw, 1);
        assert.equal(stats.returnedNotCompleted, 0);
        const [a, b] = ids;
        const events = "_honker_ts_job_events";
        const cases: Array<[string, string, RegExp]> = [
          [
            "a second completed event",
            `INSERT INTO ${events} (queue, job_id, type, data, attempt)
              SELECT queue, job_id, type, data, attempt FROM ${events}
              WHERE job_id = ${a} AND type = 'completed'`,
            /more than one completed event/,
          ],
          [
            "a lost completion",
            `DELETE FROM ${events} WHERE job_id = ${a} AND type = 'completed'`,
            /neither completed nor dead/,
          ],
          [
            "a result of another attempt",
            `UPDATE _honker_results SET value = json_set(value, '$.attempt', 2)
              WHERE job_id = ${a}`,
            /one of another attempt or payload/,
          ],
          [
            "an expiring result",
            `UPDATE _honker_results SET expires_at = unixepoch() + 60 WHERE job_id = ${a}`,
            /an expired one/,
          ],
          [
            "a completion without a run that returned",
            `UPDATE torture_batch_runs SET outcome = NULL WHERE job_id = ${a}`,
            /no handler run that returned/,
          ],
          [
            "a completion by a worker that did not claim that attempt",
            `UPDATE ${events} SET data = json_object('workerId', 'w-2')
              WHERE job_id = ${a} AND type = 'active'`,
            /claimed by another worker/,
          ],
          [
            "one claim run twice",
            `INSERT INTO torture_batch_runs (job_id, worker, attempt, started_ms)
              SELECT job_id, 'w-2', attempt, started_ms FROM torture_batch_runs
              WHERE job_id = ${a}`,
            /run twice/,
          ],
          [
            "a failed event without a throw",
            `UPDATE torture_batch_runs SET outcome = 'returned' WHERE job_id = ${b}
              AND outcome = 'threw'`,
            /failed events match no handler run that threw/,
          ],
          [
            "a job left live",
            `INSERT INTO _honker_live (queue, payload) VALUES ('${BATCH_QUEUE}', '{}')`,
            /still live/,
          ],
          [
            "a job dead-lettered after it completed",
            `INSERT INTO _honker_dead (id, queue, payload, attempts, max_attempts, last_error)
              VALUES (${a}, '${BATCH_QUEUE}', '{}', 1, 5, 'boom')`,
            /results exist for batch jobs that never completed/,
          ],
        ];
        for (const [what, tamper, expected] of cases) {
          const violations = violationsAfter(db, tamper);
          assert.ok(
            violations.some((v) => expected.test(v)),
            `${what}: expected ${expected}, got ${JSON.stringify(violations)}`,
          );
        }
        const after: string[] = [];
        checkBatch(db, after);
        assert.deepEqual(after, [], "every tampering was rolled back");
      }),
    );
  });
}
