// The queue's operator controls (issue #19): pause()/resume() stop and restart every claim path
// of a queue and wake waiting workers, a paused queue costs an idle worker no more statements
// than an empty one, jobs() pages every job exactly once, changePriority() reorders claims,
// promote() makes a delayed job run now and wakes a sleeping worker. Every driver of the matrix;
// honker's real extension shows what a honker process does not honor (pause).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import type { Database, Job, ListedJob, StandardSchemaV1 } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { sqlNow, withDb } from "./_db.ts";
import { removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { honkerExtSkip, withPair } from "./_honker_ext.ts";
import { statementLog } from "./_statement_log.ts";

after(removeTempDirs);
const EXT_SKIP = await honkerExtSkip();

/** An idle poll far longer than any wait a test allows: a fast pickup can only be a wake. */
const NO_POLL_MS = 30_000;

/** Resolves with the first job work() hands `queue`'s handler, and a way to stop it. */
function firstJob<T>(db: Database, queue: string): { job: Promise<Job<T>>; stop(): void } {
  const stop = new AbortController();
  let resolve!: (job: Job<T>) => void;
  const job = new Promise<Job<T>>((r) => (resolve = r));
  void db.queue<T>(queue).work((j) => resolve(j), { signal: stop.signal, idlePollMs: NO_POLL_MS });
  return { job, stop: () => stop.abort() };
}

/** Resolves with what `promise` gave, or "timeout" after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  return Promise.race([promise, sleep(ms).then(() => "timeout" as const)]);
}

for (const entry of driverMatrix()) {
  describe(`queue controls on ${entry.id}`, { skip: entry.skip }, () => {
    it(
      "pause() stops claimOne, claimBatch and claim(); other queues still claim; resume() restores",
      withDb(entry, async (db) => {
        const q = db.queue("emails");
        const other = db.queue<{ n: number }>("thumbs");
        q.enqueue({ n: 1 });
        q.enqueue({ n: 2 }, { delayS: 60 });
        other.enqueue({ n: 3 });
        assert.equal(q.pause(), true);
        assert.equal(q.pause(), false, "already paused");
        assert.equal(q.isPaused(), true);
        assert.equal(db.queue("emails").isPaused(), true, "a second handle sees it");
        assert.equal(other.isPaused(), false);
        assert.equal(q.claimOne("w"), null);
        assert.deepEqual(q.claimBatch("w", 5), []);
        assert.equal(q.nextClaimAt(), 0, "a paused queue reports nothing coming");
        assert.equal(other.claimOne("w")?.payload.n, 3);
        const id = q.enqueue({ n: 4 });
        assert.ok(id > 0, "enqueue still works while paused");
        const stats = q.stats();
        assert.equal(stats.paused, true);
        assert.equal(stats.pending, 2);
        const stop = new AbortController();
        const claimed = q.claim("w", { signal: stop.signal, idlePollMs: 20 })
          [Symbol.asyncIterator]()
          .next();
        assert.equal(await within(claimed, 150), "timeout", "claim() takes nothing while paused");
        assert.equal(q.resume(), true);
        assert.equal(q.resume(), false, "not paused");
        const first = await within(claimed, 2000);
        assert.notEqual(first, "timeout");
        stop.abort();
        assert.equal(q.claimBatch("w", 5).length, 1, "the other due job");
        assert.equal(q.stats().paused, false);
      }),
    );

    it(
      "resume() wakes a work() loop sleeping on a paused queue at once",
      withDb(entry, async (db) => {
        const q = db.queue<{ n: number }>("emails");
        q.pause();
        q.enqueue({ n: 1 });
        const worker = firstJob<{ n: number }>(db, "emails");
        try {
          assert.equal(
            await within(worker.job, 200),
            "timeout",
            "work() takes nothing while paused",
          );
          const resumedAt = Date.now();
          q.resume();
          const job = await within(worker.job, 2000);
          assert.notEqual(job, "timeout", "resume woke the worker");
          const latencyMs = Date.now() - resumedAt;
          assert.ok(latencyMs < 1000, `picked up ${latencyMs} ms after resume (idle poll 30 s)`);
        } finally {
          worker.stop();
        }
      }),
    );

    it(
      "pause() stops a running work() loop from taking more jobs; enqueues wait",
      withDb(entry, async (db) => {
        const q = db.queue<{ n: number }>("emails");
        const seen: number[] = [];
        const stop = new AbortController();
        const done = q.work((job) => void seen.push(job.payload.n), {
          signal: stop.signal,
          idlePollMs: NO_POLL_MS,
        });
        try {
          q.enqueue({ n: 1 });
          for (let i = 0; i < 200 && seen.length < 1; i++) await sleep(5);
          assert.deepEqual(seen, [1]);
          q.pause();
          q.enqueue({ n: 2 });
          await sleep(200);
          assert.deepEqual(seen, [1], "nothing claimed after pause()");
          assert.equal(q.stats().pending, 1);
          q.resume();
          for (let i = 0; i < 200 && seen.length < 2; i++) await sleep(5);
          assert.deepEqual(seen, [1, 2]);
        } finally {
          stop.abort();
          await done;
        }
      }),
    );

    it("an idle worker runs as many statements on a paused queue with due jobs as on an empty queue", async () => {
      const path = tempDbPath();
      const log = statementLog(await entry.open(path));
      const db = fromDriver(log);
      try {
        const held = db.queue("held");
        held.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
        held.enqueue({ n: 4 }, { delayS: 1 }); // due while paused: must not wake the worker
        held.pause();
        /** Statements, and claim looks among them, of an idle work() on `queue` over 1 s. */
        const count = async (queue: string): Promise<{ all: number; looks: number }> => {
          const stop = new AbortController();
          const done = db.queue(queue).work(() => {}, { signal: stop.signal, idlePollMs: 25 });
          await sleep(50); // the first look
          log.log.length = 0;
          await sleep(1000);
          const all = log.log.length;
          const looks = log.log.filter((s) => s.sql.includes("_honker_live")).length;
          stop.abort();
          await done;
          return { all, looks };
        };
        const empty = await count("empty");
        const paused = await count("held");
        // ~40 idle polls in 1 s, one look each (plus the background write's busy-timeout pragmas).
        assert.ok(empty.looks > 10 && empty.looks < 60, `empty queue: ${empty.looks} looks`);
        for (const what of ["all", "looks"] as const) {
          const slack = Math.max(4, empty[what] * 0.2);
          assert.ok(
            Math.abs(paused[what] - empty[what]) <= slack,
            `${what} statements: paused queue ${paused[what]}, empty queue ${empty[what]}`,
          );
        }
        assert.equal(held.stats().pending, 4, "nothing taken");
      } finally {
        db.close();
        log.close();
      }
    });

    it(
      "jobs() pages every job exactly once, oldest id first, per state and for all",
      withDb(entry, (db) => {
        const q = db.queue<{ n: number }>("emails");
        const pending = q.enqueueMany(Array.from({ length: 23 }, (_, n) => ({ n })));
        const scheduled = q.enqueueMany([{ n: 100 }, { n: 101 }, { n: 102 }], { delayS: 600 });
        const claimed = q.claimBatch("w", 7);
        const dead = claimed.slice(0, 2);
        for (const job of dead) job.fail("boom");
        db.queue("other").enqueue({ n: 999 });
        const page = (state: ListedJob["state"] | "all" | "scheduled", limit: number) => {
          const ids: number[] = [];
          for (let after = 0;;) {
            const jobs = q.jobs({ state: state as "all", limit, after });
            assert.ok(jobs.length <= limit);
            if (jobs.length === 0) return ids;
            ids.push(...jobs.map((j) => j.id));
            after = jobs[jobs.length - 1].id;
          }
        };
        const claimedIds = claimed.map((j) => j.id);
        const deadIds = dead.map((j) => j.id);
        const processingIds = claimedIds.filter((id) => !deadIds.includes(id));
        const pendingIds = pending.filter((id) => !claimedIds.includes(id));
        const sorted = (ids: number[]) => [...ids].sort((a, b) => a - b);
        assert.deepEqual(page("pending", 4), pendingIds);
        assert.deepEqual(page("scheduled", 2), scheduled);
        assert.deepEqual(page("processing", 3), sorted(processingIds));
        assert.deepEqual(page("dead", 1), sorted(deadIds));
        assert.deepEqual(page("all", 5), sorted([...pending, ...scheduled]));
        const [first] = q.jobs({ state: "dead", limit: 1 });
        assert.equal(first.state, "dead");
        if (first.state === "dead") {
          assert.equal(first.lastError, "boom");
          assert.deepEqual(first, {
            ...q.deadLetters().find((d) => d.id === first.id),
            state: "dead",
          });
        }
        const [live] = q.jobs({ state: "processing", limit: 1 });
        assert.deepEqual(live, q.getJob(live.id));
        assert.equal(
          q.jobs().length,
          26,
          "the default limit covers them, the default state is all",
        );
      }),
    );

    it(
      "jobs() decodes live payloads through the schema and dead ones as stored",
      withDb(entry, (db) => {
        const cents: StandardSchemaV1<{ euros: number }, { cents: number }> = {
          "~standard": {
            version: 1,
            vendor: "test",
            validate: (v: unknown) => ({ value: { cents: (v as { euros: number }).euros * 100 } }),
          },
        };
        const q = db.queue("pay", { schema: cents });
        q.enqueue({ euros: 2 });
        q.enqueue({ euros: 3 });
        q.claimOne("w")?.fail("no");
        const [deadJob, liveJob] = q.jobs();
        assert.deepEqual(deadJob.payload, { euros: 2 });
        assert.deepEqual(liveJob.payload, { cents: 300 });
      }),
    );

    it("jobs() refuses a bad state, limit or cursor before reading anything", async () => {
      const path = tempDbPath();
      const log = statementLog(await entry.open(path));
      const db = fromDriver(log);
      try {
        const q = db.queue("emails");
        log.log.length = 0;
        const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
          [{ state: "waiting" }, TypeError, /state must be one of pending, scheduled/],
          [{ limit: 0 }, RangeError, /limit must be at least 1/],
          [{ limit: 1001 }, RangeError, /limit must be at most 1000/],
          [{ limit: 1.5 }, TypeError, /limit must be an integer/],
          [{ after: -1 }, RangeError, /after must not be negative/],
          [{ after: "3" }, TypeError, /after must be an integer/],
          [{ before: 3 }, TypeError, /unknown option "before"/],
          ["all", TypeError, /options must be an object/],
        ];
        for (const [options, type, message] of bad) {
          assert.throws(
            () => q.jobs(options as never),
            (e: Error) =>
              e instanceof type && /^Cannot list jobs of queue "emails": /.test(e.message) &&
              message.test(e.message),
            JSON.stringify(options),
          );
        }
        assert.deepEqual(log.log, [], "nothing was read");
        assert.equal(q.jobs({ limit: 1000 }).length, 0);
      } finally {
        db.close();
        log.close();
      }
    });

    it(
      "changePriority() reorders claims; false for a job that is not live in this queue",
      withDb(entry, (db) => {
        const q = db.queue<{ n: number }>("emails");
        const [a, b, c] = q.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
        assert.equal(q.changePriority(c, 5), true);
        assert.equal(q.changePriority(a, -1), true);
        assert.equal(q.getJob(c)?.priority, 5);
        assert.deepEqual(q.claimBatch("w", 3).map((j) => j.id), [c, b, a]);
        assert.equal(q.changePriority(b, 9), true, "a processing job too");
        const other = db.queue("other").enqueue({ n: 4 });
        assert.equal(q.changePriority(other, 1), false, "another queue's job");
        assert.equal(q.changePriority(999_999, 1), false, "unknown");
        db.queue("other").claimOne("w")?.fail("x");
        assert.equal(db.queue("other").changePriority(other, 1), false, "a dead job");
        assert.throws(() => q.changePriority(a, 1.5), TypeError);
        assert.throws(() => q.changePriority(0, 1), RangeError);
      }),
    );

    it(
      "promote() makes a delayed job due now and wakes a sleeping worker well under the idle poll",
      withDb(entry, async (db) => {
        const q = db.queue<{ n: number }>("emails");
        const id = q.enqueue({ n: 1 }, { delayS: 3600 });
        const due = q.enqueue({ n: 2 });
        assert.equal(q.promote(due), false, "not delayed");
        assert.equal(q.promote(999_999), false, "unknown");
        assert.equal(q.claimOne("w")?.id, due);
        const worker = firstJob<{ n: number }>(db, "emails");
        try {
          assert.equal(await within(worker.job, 100), "timeout", "the delayed job is not due");
          const promotedAt = Date.now();
          assert.equal(q.promote(id), true);
          const job = await within(worker.job, 2000);
          assert.notEqual(job, "timeout");
          if (job !== "timeout") assert.equal(job.id, id);
          const latencyMs = Date.now() - promotedAt;
          assert.ok(latencyMs < 500, `picked up ${latencyMs} ms after promote (idle poll 30 s)`);
          assert.ok((q.getJob(id)?.runAt ?? 0) <= sqlNow(db));
        } finally {
          worker.stop();
        }
        assert.equal(q.promote(id), false, "processing, not delayed");
        assert.throws(() => q.promote(-1), RangeError);
      }),
    );

    it("stats() counts retrying and stalled jobs in one statement", async () => {
      const path = tempDbPath();
      const log = statementLog(await entry.open(path));
      const db = fromDriver(log);
      try {
        const q = db.queue("emails", { visibilityTimeoutS: 1 });
        q.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
        const [first, second] = q.claimBatch("w", 2);
        first.retry(0, "again");
        db.driver.run("UPDATE _honker_live SET claim_expires_at = unixepoch() - 5 WHERE id = ?", [
          second.id,
        ]);
        log.log.length = 0;
        assert.deepEqual({ ...q.stats() }, {
          pending: 2,
          scheduled: 0,
          processing: 1,
          dead: 0,
          retrying: 1,
          stalled: 1,
          paused: false,
        });
        assert.equal(log.log.length, 1, "one statement");
      } finally {
        db.close();
        log.close();
      }
    });

    it(
      "honker's extension does not read the pause: its honker_claim_batch still claims",
      {
        skip: EXT_SKIP,
      },
      withPair(entry, (db, ext) => {
        const q = db.queue("emails");
        q.enqueue({ n: 1 });
        q.pause();
        assert.equal(q.claimOne("w"), null, "honker-ts honors the pause");
        const claimed = ext.claim("emails", "honker-worker", 1);
        assert.equal(claimed.length, 1, "a honker process does not (documented limit)");
      }),
    );
  });
}
