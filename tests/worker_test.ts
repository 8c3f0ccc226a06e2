// queue.worker(): pause and resume, a graceful close under load, live counts and events, a
// listener that throws, infrastructure errors; batch handlers (issue #19).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Database, Job, Worker } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, withDb } from "./_db.ts";
import { eventually, sleep } from "./_helpers.ts";

/** A promise and the function that resolves it. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Every event of `worker` by type, in order. */
function recordEvents<T>(worker: Worker<T>): Record<string, unknown[]> {
  const seen: Record<string, unknown[]> = {};
  const types = ["completed", "failed", "lost", "error", "drained", "paused", "resumed", "closed"];
  for (const type of types) {
    seen[type] = [];
    worker.addEventListener(type, (event) => seen[type].push((event as CustomEvent).detail));
  }
  return seen;
}

/** Live jobs still claimed by `workerId` with a claim that has not lapsed. */
function heldBy(db: Database, workerId: string): number {
  return Number(
    db.driver.get<{ n: number }>(
      `SELECT count(*) AS n FROM _honker_live WHERE state = 'processing' AND worker_id = ?
       AND claim_expires_at >= unixepoch()`,
      [workerId],
    )?.n,
  );
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: queue.worker()`, () => {
    it(
      "a listener added right after worker() hears the first look's events (drained, completed)",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs");
        q.enqueueMany([1, 2]);
        const worker = q.worker(() => {}, { concurrency: 4, idlePollMs: null });
        const events = recordEvents(worker);
        await eventually(() => worker.processed === 2, 5000, "both jobs handled");
        await eventually(() => events.drained.length === 1, 2000, "the first look's drained event");
        assert.equal(events.completed.length, 2);
        await worker.close();
      }),
    );

    it(
      "pause() stops claiming while in-flight handlers finish; resume() claims waiting jobs at once",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs");
        q.enqueueMany([1, 2, 3, 4]);
        const release = gate();
        const started: number[] = [];
        // idlePollMs: null: only a wake or a kick makes it look, never a poll within the test.
        const worker = q.worker(async (job) => {
          started.push(job.payload);
          if (job.payload <= 2) await release.opened;
        }, { concurrency: 2, idlePollMs: null });
        const events = recordEvents(worker);
        await eventually(() => started.length === 2, 5000, "two handlers started");
        assert.equal(worker.pause(), true);
        assert.equal(worker.pause(), false, "a second pause changes nothing");
        assert.equal(worker.paused, true);
        release.open();
        await eventually(() => worker.processed === 2, 5000, "the in-flight handlers' acks");
        await sleep(300);
        assert.deepEqual(started, [1, 2], "nothing claimed while paused");
        assert.equal(q.stats().pending, 2);
        assert.equal(worker.running, 0);
        q.enqueue(5); // a commit while paused wakes nothing
        await sleep(100);
        assert.equal(started.length, 2);
        const resumedAt = Date.now();
        assert.equal(worker.resume(), true);
        await eventually(() => worker.processed === 5, 3000, "the waiting jobs after resume()");
        assert.ok(Date.now() - resumedAt < 3000, "resume() waited for a poll (30 s away)");
        assert.deepEqual(await worker.close(), { acked: 5, retried: 0, dead: 0, lost: 0 });
        assert.equal(events.paused.length, 1);
        assert.equal(events.resumed.length, 1);
        assert.equal(events.completed.length, 5);
        assert.deepEqual(events.closed, [{ acked: 5, retried: 0, dead: 0, lost: 0 }]);
      }),
    );

    it(
      "close() under load commits every finished handler's outcome and gives the rest back at once",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs", { visibilityTimeoutS: 600 });
        q.enqueueMany(Array.from({ length: 40 }, (_, i) => i));
        const finished = new Set<number>();
        let stuckSignals: AbortSignal[] = [];
        const worker = q.worker(async (job, { signal }) => {
          if (job.payload % 10 === 9) {
            stuckSignals.push(signal);
            return await new Promise(() => {}); // ignores its signal: never returns
          }
          await sleep(5 + (job.payload % 4) * 5);
          finished.add(job.id);
        }, { concurrency: 6, idlePollMs: null });
        await eventually(() => finished.size >= 10, 5000, "ten jobs done");
        const closing = worker.close({ graceMs: 300 });
        assert.equal(worker.close({ graceMs: 60_000 }), closing, "close() is idempotent");
        const started = Date.now();
        const result = await closing;
        assert.ok(Date.now() - started < 5000, "close() waited past its grace period");
        assert.equal(result.acked, finished.size, "every finished handler was acked");
        for (const id of finished) assert.equal(q.getJob(id), null, `job ${id} not acked`);
        assert.equal(heldBy(db, worker.workerId), 0, "jobs still claimed by the closed worker");
        assert.equal(worker.released, stuckSignals.length);
        assert.ok(stuckSignals.length > 0 && stuckSignals.every((s) => s.aborted));
        // The given-back jobs are claimable at once by another worker, not after 600 s.
        const other = q.claimBatch("other", 100);
        assert.equal(other.length, 40 - finished.size);
        stuckSignals = [];
      }),
    );

    it(
      "work(): after its signal and the grace period, a stuck handler's job is claimable at once",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<string>("jobs", { visibilityTimeoutS: 600 });
        const id = q.enqueue("stuck");
        const stop = new AbortController();
        const done = q.work(() => {
          stop.abort();
          return new Promise(() => {});
        }, { signal: stop.signal, graceMs: 100, idlePollMs: null });
        assert.deepEqual(await done, { acked: 0, retried: 0, dead: 0, lost: 0 });
        // Before: held until its 600 s visibility timeout ran out.
        assert.equal(q.claimOne("other")?.id, id);
      }),
    );

    it(
      "counts and events match what happened; a throwing listener does not stop the worker",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("jobs", { maxAttempts: 2 });
        q.enqueueMany([1, 2, 3, 4, 5, 6, 7]);
        const reported: unknown[][] = [];
        const originalError = console.error;
        console.error = (...args: unknown[]) => void reported.push(args);
        try {
          const worker = q.worker(async (job) => {
            await Promise.resolve();
            if (job.payload % 3 === 0) throw new Error(`bad ${job.payload}`);
            return job.payload * 10;
          }, { concurrency: 3, retryDelayS: 0, idlePollMs: 20 });
          const events = recordEvents(worker);
          worker.addEventListener("completed", () => {
            throw new Error("listener bug");
          });
          // Jobs 3 and 6 fail twice each: retried once, then dead.
          await eventually(() => worker.processed === 5 && worker.dead === 2, 8000, "all jobs");
          const result = await worker.close();
          assert.deepEqual(result, { acked: 5, retried: 2, dead: 2, lost: 0 });
          assert.equal(worker.failed, 4);
          assert.equal(worker.retried, 2);
          assert.equal(worker.running, 0);
          const completed = events.completed as { job: Job<number>; value: unknown }[];
          assert.deepEqual(
            completed.map((e) => [e.job.payload, e.value]).sort((a, b) =>
              Number(a[0]) - Number(b[0])
            ),
            [[1, 10], [2, 20], [4, 40], [5, 50], [7, 70]],
          );
          const failed = events.failed as { job: Job<number>; error: Error; dead: boolean }[];
          assert.equal(failed.length, 4);
          assert.deepEqual(failed.filter((e) => e.dead).map((e) => e.job.payload).sort(), [3, 6]);
          assert.ok(failed.every((e) => /^bad [36]$/.test(e.error.message)));
          assert.equal(events.error.length, 0);
          assert.ok(events.drained.length >= 1, "drained was told");
          assert.equal(reported.length, 5, "each throw of the listener is reported");
          assert.match(String(reported[0][0]), /"completed" listener threw/);
          assert.equal(countRows(db, "_honker_dead"), 2);
        } finally {
          console.error = originalError;
        }
      }),
    );

    it(
      "an error listener gets the worker's own error, and closed rejects with it",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<string>("jobs");
        db.driver.exec(`CREATE TRIGGER refuse_acks BEFORE DELETE ON _honker_live
          BEGIN SELECT RAISE(ABORT, 'acks are refused'); END`);
        q.enqueue("x");
        const worker = q.worker(() => {}, { idlePollMs: null });
        const errors: unknown[] = [];
        worker.addEventListener("error", (event) => errors.push(event.detail.error));
        await assert.rejects(worker.closed, /acks are refused/);
        assert.equal(errors.length, 1);
        assert.match(String(errors[0]), /acks are refused/);
        assert.equal(worker.closing, true);
      }),
    );

    it(
      "a batch handler gets up to size jobs at once: a return acks them, a throw retries them",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const q = db.queue<number>("rows", { maxAttempts: 2 });
        q.enqueueMany(Array.from({ length: 12 }, (_, i) => i));
        const sizes: number[] = [];
        let thrown = false;
        const worker = q.batchWorker(async (jobs) => {
          sizes.push(jobs.length);
          await sleep(10);
          if (!thrown && jobs.some((job) => job.payload === 0)) {
            thrown = true;
            throw new Error("batch failed");
          }
          // One entry per job: an Error retries that job alone.
          return jobs.map((job) =>
            job.payload === 11 && job.attempts === 1 ? new Error("row 11") : job.payload
          );
        }, { size: 5, retryDelayS: 0, idlePollMs: 20 });
        await eventually(() => worker.processed === 12, 8000, "every row");
        const result = await worker.close();
        assert.ok(sizes.every((n) => n >= 1 && n <= 5), `batch sizes ${sizes}`);
        assert.equal(sizes[0], 5, "the first claim filled a batch");
        // The failed batch (5 jobs) and row 11 were retried, then acked.
        assert.deepEqual(result, { acked: 12, retried: 6, dead: 0, lost: 0 });
        assert.equal(countRows(db, "_honker_live"), 0);
      }),
    );

    it(
      "refuses bad worker options before claiming anything",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("jobs");
        q.enqueue(1);
        assert.throws(
          () => q.worker(() => {}, { retryDelayS: 5, backoff: { type: "fixed", delayS: 5 } }),
          {
            name: "TypeError",
            message: /give backoff or retryDelayS, not both/,
          },
        );
        assert.throws(() => q.worker(() => {}, { timeoutS: 0 }), /timeoutS must be at least 1/);
        assert.throws(
          () => q.worker(() => {}, { timeoutS: 3_000_000 }),
          /timeoutS must be at most/,
        );
        assert.throws(
          () => q.worker(() => {}, { backoff: { type: "linear" as "fixed", delayS: 1 } }),
          /backoff.type must be "exponential" or "fixed"/,
        );
        assert.throws(
          () => q.worker(() => {}, { backoff: { type: "fixed", delayS: 1, jitter: 2 } }),
          /backoff.jitter must be a number from 0 to 1/,
        );
        assert.throws(() => q.batchWorker(() => {}, { size: 0 }), /size must be at least 1/);
        assert.throws(() => q.batchWorker(() => {}, {} as never), /size must be/);
        const worker = q.worker(() => {}, { idlePollMs: null, concurrency: 1 });
        assert.throws(() => worker.close({ grace: 1 } as never), /unknown option "grace"/);
        return worker.close().then((result) => assert.equal(result.acked + q.stats().pending, 1));
      }),
    );
  });
}
