// Per-attempt timeouts and retry backoff, per worker and per job (issue #19): the bounds of
// run_at after a failure, a handler that ignores its signal past timeoutS, and the job options
// table freed by its trigger whoever removes the job (honker's extension included).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, JobTimeoutError } from "../mod.ts";
import type { Database, Queue, WorkerFailed } from "../mod.ts";
import { backoffDelayS, requireBackoff } from "../core/queue/backoff.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { honkerExtSkip, openHonkerExt } from "./_honker_ext.ts";
import { statementLog } from "./_statement_log.ts";

const EXT_SKIP = await honkerExtSkip();

function makeDue(db: Database): void {
  db.driver.run("UPDATE _honker_live SET run_at = unixepoch() WHERE state = 'pending'");
}

/**
 * Fails job `id` once per delay it is expected to wait, reading how far in the future each
 * failure put its run_at (seconds after SQLite's now, read right after the failure).
 */
async function delaysAfterFailures(
  db: Database,
  q: Queue<number>,
  id: number,
  failures: number,
  options: Parameters<Queue<number>["worker"]>[1],
): Promise<number[]> {
  let failed = 0;
  const worker = q.worker(() => {
    failed++;
    throw new Error("boom");
  }, { idlePollMs: 20, ...options });
  const delays: number[] = [];
  for (let n = 1; n <= failures; n++) {
    await eventually(
      () => failed === n && q.getJob(id)?.state === "pending",
      5000,
      `failure ${n}`,
    );
    delays.push((q.getJob(id)?.runAt ?? 0) - sqlNow(db));
    makeDue(db);
  }
  await worker.close();
  return delays;
}

/** Asserts each delay is within 1 s of the expected one (SQLite's clock ticks meanwhile). */
function near(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((d, i) => {
    assert.ok(Math.abs(d - expected[i]) <= 1, `delay ${i + 1}: ${d} s, expected ${expected[i]}`);
  });
}

describe("backoffDelayS()", () => {
  it("exponential doubles from delayS and stops at maxDelayS; fixed stays", () => {
    const exp = requireBackoff({ type: "exponential", delayS: 10, maxDelayS: 25 }, "b", "test");
    assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelayS(exp, n)), [10, 20, 25, 25]);
    const fixed = requireBackoff({ type: "fixed", delayS: 7 }, "b", "test");
    assert.deepEqual([1, 2, 9].map((n) => backoffDelayS(fixed, n)), [7, 7, 7]);
    const long = requireBackoff({ type: "exponential", delayS: 7200 }, "b", "test");
    assert.equal(backoffDelayS(long, 3), 7200, "no cap below delayS unless given");
  });

  it("jitter shortens a delay by at most its share", () => {
    const b = requireBackoff({ type: "fixed", delayS: 100, jitter: 0.3 }, "b", "test");
    assert.equal(backoffDelayS(b, 1, () => 0), 100);
    assert.equal(backoffDelayS(b, 1, () => 0.999999), 70);
    assert.equal(backoffDelayS(b, 1, () => 0.5), 85);
  });
});

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: worker backoff`, () => {
    it(
      "fixed, exponential and maxDelayS put run_at where they say after each failure",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs", { maxAttempts: 5 });
        const fixed = q.enqueue(1);
        near(
          await delaysAfterFailures(db, q, fixed, 2, { backoff: { type: "fixed", delayS: 100 } }),
          [100, 100],
        );
        q.cancel(fixed);
        const exp = q.enqueue(2);
        const backoff = { type: "exponential", delayS: 10, maxDelayS: 25 } as const;
        near(await delaysAfterFailures(db, q, exp, 3, { backoff }), [10, 20, 25]);
      }),
    );

    it(
      "jitter keeps each delay between (1 − jitter) × delay and delay",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs", { maxAttempts: 5 });
        const ids = q.enqueueMany([1, 2, 3, 4, 5, 6]);
        let failed = 0;
        const worker = q.worker(() => {
          failed++;
          throw new Error("boom");
        }, { backoff: { type: "fixed", delayS: 1000, jitter: 0.5 }, concurrency: 6 });
        await eventually(() => failed === 6 && q.stats().scheduled === 6, 5000, "six failures");
        await worker.close();
        const delays = ids.map((id) => (q.getJob(id)?.runAt ?? 0) - sqlNow(db));
        for (const d of delays) assert.ok(d >= 499 && d <= 1000, `delay ${d} outside [500, 1000]`);
        assert.ok(new Set(delays).size > 1, `six jittered delays all equal: ${delays}`);
      }),
    );

    it(
      "a job's own backoff, stored at enqueue, wins over the worker's",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs", { maxAttempts: 5 });
        const own = q.enqueue(1, { backoff: { type: "fixed", delayS: 7 } });
        const plain = q.enqueue(2);
        let failed = 0;
        const worker = q.worker(() => {
          failed++;
          throw new Error("boom");
        }, { retryDelayS: 100, concurrency: 2 });
        await eventually(() => failed === 2 && q.stats().scheduled === 2, 5000, "two failures");
        await worker.close();
        near([own, plain].map((id) => (q.getJob(id)?.runAt ?? 0) - sqlNow(db)), [7, 100]);
      }),
    );

    it(
      "a job's run options live in _honker_ts_job_options until it leaves the live table",
      { skip, timeout: 20_000 },
      withDb(entry, (db) => {
        const q = db.queue<number>("jobs");
        const options = { timeoutS: 30, backoff: { type: "fixed", delayS: 3 } } as const;
        const [a, b, c] = q.enqueueMany([1, 2, 3], options);
        q.enqueue(4); // none: no row
        const rows = () => countRows(db, "_honker_ts_job_options");
        assert.equal(rows(), 3);
        assert.deepEqual(
          {
            ...db.driver.get(
              "SELECT timeout_s, backoff FROM _honker_ts_job_options WHERE job_id = ?",
              [a],
            ),
          },
          {
            timeout_s: 30,
            backoff: JSON.stringify({ type: "fixed", delayS: 3, maxDelayS: 3, jitter: 0 }),
          },
        );
        const [first] = q.claimBatch("w", 1);
        assert.equal(first.id, a);
        first.ack();
        assert.equal(rows(), 2, "an ack frees the row");
        q.claimOne("w")?.fail("no");
        assert.equal(rows(), 1, "a dead letter frees the row");
        assert.equal(q.cancel(c), true);
        assert.equal(rows(), 0, "a cancel frees the row");
        assert.ok(b > a);
        // A rolled-back enqueue leaves no options behind.
        assert.throws(() =>
          db.transaction((tx) => {
            q.enqueue(5, { tx, timeoutS: 5 });
            throw new Error("rollback");
          }), /rollback/);
        assert.equal(rows(), 0);
        // Bad options are refused before anything is written.
        const live = countRows(db, "_honker_live");
        assert.throws(() => q.enqueue(6, { timeoutS: 1.5 }), /timeoutS must be an integer/);
        assert.throws(() => q.enqueue(6, { backoff: { type: "fixed" } as never }), TypeError);
        assert.throws(
          () => q.enqueueMany([6], { backoff: { delayS: 1 } as never }),
          /backoff.type/,
        );
        assert.equal(countRows(db, "_honker_live"), live);
      }),
    );
  });
}

// Timeouts take whole seconds: one driver per runtime (the first that runs here).
const first = driverMatrix().find((e) => e.skip === undefined);
describe("worker timeoutS", () => {
  it(
    "a handler past timeoutS is aborted, fails with a timeout error, is retried, then dead",
    { skip: first ? undefined : "no driver runs here", timeout: 20_000 },
    withDb(first!, async (db) => {
      const q = db.queue<string>("jobs", { maxAttempts: 2 });
      const id = q.enqueue("slow");
      const reasons: unknown[] = [];
      let returned = 0;
      const worker = q.worker(async (_job, { signal }) => {
        signal.addEventListener("abort", () => reasons.push(signal.reason));
        await sleep(1800); // ignores its signal
        returned++;
      }, { timeoutS: 1, backoff: { type: "fixed", delayS: 0 }, idlePollMs: 20 });
      const failed: WorkerFailed<string>[] = [];
      worker.addEventListener("failed", (e) => failed.push(e.detail));
      await eventually(() => worker.dead === 1, 8000, "two timed-out attempts");
      const result = await worker.close({ graceMs: 0 });
      assert.deepEqual(result, { acked: 0, retried: 1, dead: 1, lost: 0 });
      assert.deepEqual(failed.map((f) => f.dead), [false, true]);
      for (const f of failed) {
        assert.ok(f.error instanceof JobTimeoutError);
        assert.equal(f.error.jobId, id);
      }
      assert.equal(reasons.length, 2);
      assert.ok(reasons.every((r) => r instanceof JobTimeoutError), "signal aborted with it");
      const [dead] = q.deadLetters();
      assert.equal(dead.id, id);
      assert.match(dead.lastError ?? "", /^JobTimeoutError: job \d+ ran past its timeout of 1 s$/);
      // The handler's late return changes nothing.
      await eventually(() => returned === 2, 5000, "the late returns");
      await sleep(50);
      assert.equal(worker.processed, 0);
      assert.equal(q.deadLetters().length, 1);
    }),
  );

  it(
    "a job's own timeoutS wins over the worker's",
    { skip: first ? undefined : "no driver runs here", timeout: 20_000 },
    withDb(first!, async (db) => {
      const q = db.queue<string>("jobs", { maxAttempts: 1 });
      const short = q.enqueue("short", { timeoutS: 1 });
      const long = q.enqueue("long");
      const worker = q.worker(() => sleep(1600), { timeoutS: 60, concurrency: 2 });
      await eventually(() => worker.processed + worker.dead === 2, 8000, "both jobs");
      assert.deepEqual(await worker.close(), { acked: 1, retried: 0, dead: 1, lost: 0 });
      assert.deepEqual(q.deadLetters().map((d) => d.id), [short]);
      assert.equal(q.getJob(long), null);
    }),
  );
});

describe("run options next to honker's extension", () => {
  const entry = driverMatrix().find((e) => e.skip === undefined);
  it(
    "honker's ack and dead-lettering free a job's options row (the trigger is plain SQL)",
    { skip: EXT_SKIP ?? (entry ? undefined : "no driver runs here") },
    async () => {
      const path = tempDbPath();
      const driver = await entry!.open(path);
      const db = fromDriver(driver);
      const ext = await openHonkerExt(path);
      try {
        const q = db.queue<number>("jobs", { maxAttempts: 1 });
        const [a, b] = q.enqueueMany([1, 2], { timeoutS: 9 });
        const theirs = ext.enqueue("jobs", 3);
        assert.equal(countRows(db, "_honker_ts_job_options"), 2);
        const claimed = ext.claim("jobs", "honker-worker", 3);
        assert.deepEqual(claimed.map((j) => j.id), [a, b, theirs]);
        assert.equal(ext.call("SELECT honker_ack(?, ?)", [a, "honker-worker"]), 1);
        assert.equal(countRows(db, "_honker_ts_job_options"), 1);
        ext.call("SELECT honker_retry(?, ?, 0, 'out of attempts')", [b, "honker-worker"]);
        assert.ok(ext.deadRow(b), "honker dead-lettered it");
        assert.equal(countRows(db, "_honker_ts_job_options"), 0);
      } finally {
        ext.close();
        db.close();
        driver.close();
      }
    },
  );
});

const OPTIONS_READ = "FROM _honker_ts_job_options WHERE job_id IN";

for (const entry of driverMatrix()) {
  describe(`${entry.id}: a job's run options and its claim`, { skip: entry.skip }, () => {
    /**
     * Fails one job, enqueued with its own backoff, once under work(); returns how far in the
     * future the failure put its run_at, and how many separate reads of run options it took.
     */
    async function failOnce(prepare: (db: Database) => void) {
      const driver = statementLog(await entry.open(tempDbPath()));
      const db = fromDriver(driver);
      try {
        prepare(db);
        const q = db.queue<string>("jobs");
        const id = q.enqueue("x", { backoff: { type: "fixed", delayS: 70 } });
        driver.log.length = 0;
        let failed = 0;
        const worker = q.worker(async () => {
          await Promise.resolve();
          failed++;
          throw new Error("boom");
        }, { backoff: { type: "fixed", delayS: 5 } });
        await eventually(() => failed === 1 && q.getJob(id)?.state === "pending", 5000, "retry");
        await worker.close();
        const delayS = (q.getJob(id)?.runAt ?? 0) - sqlNow(db);
        const reads = driver.log.filter((s) => s.sql.includes(OPTIONS_READ)).length;
        return { delayS, reads };
      } finally {
        db.close();
        driver.close();
      }
    }

    it("work() gets them with the claim, not in a read of their own", async () => {
      const { delayS, reads } = await failOnce(() => {});
      assert.ok(delayS >= 68 && delayS <= 70, `the job's own backoff (70 s), got ${delayS}`);
      assert.equal(reads, 0);
    });

    it("a claim that first buries an exhausted claim still honours them (read apart)", async () => {
      const { delayS, reads } = await failOnce((db) => {
        // An expired claim out of attempts: the look sends the claim down its dead-letter path.
        db.driver.run(
          `INSERT INTO _honker_live (queue, payload, state, worker_id, claim_expires_at, attempts,
             max_attempts)
           VALUES ('jobs', '"tired"', 'processing', 'gone', unixepoch() - 10, 3, 3)`,
        );
      });
      assert.ok(delayS >= 68 && delayS <= 70, `the job's own backoff (70 s), got ${delayS}`);
      assert.equal(reads, 1);
    });
  });
}
