// Job events (queue.events()), waitFor(), work() results and job.progress(), on every driver.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, JobFailedError, JobNotFoundError, JobWaitTimeoutError } from "../mod.ts";
import type { Database, JobEvent, Queue } from "../mod.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import { driverMatrix } from "./_drivers.ts";
import { refusals, removeTempDirs, sleep } from "./_helpers.ts";

after(removeTempDirs);

const SLOW = { timeout: 30_000 };

/** The events of `queue` as stored: [jobId, type, attempt, data]. */
function stored(db: Database, queue: string): [number, string, number, unknown][] {
  return db.driver.all<{ job_id: number; type: string; attempt: number; data: string | null }>(
    "SELECT job_id, type, attempt, data FROM _honker_ts_job_events WHERE queue = ? ORDER BY id",
    [queue],
  ).map((r) => [r.job_id, r.type, r.attempt, r.data === null ? null : JSON.parse(r.data)]);
}

/** Takes `n` events from the iterator, failing after `withinMs`. */
async function take(events: AsyncIterator<JobEvent>, n: number, withinMs = 10_000) {
  const got: JobEvent[] = [];
  const deadline = Date.now() + withinMs;
  while (got.length < n) {
    const timeout = sleep(deadline - Date.now()).then(() => "timeout" as const);
    const next = await Promise.race([events.next(), timeout]);
    if (next === "timeout") assert.fail(`only ${got.length} of ${n} events within ${withinMs} ms`);
    if (next.done) assert.fail(`the iterator ended after ${got.length} of ${n} events`);
    got.push(next.value);
  }
  return got;
}

/** Runs work() on `q` until `count` jobs were acked or dead-lettered. */
async function workUntil<T>(
  q: Queue<T>,
  handler: Parameters<Queue<T>["work"]>[0],
  count: number,
): Promise<void> {
  const stop = new AbortController();
  let settled = 0;
  const done = q.work(async (job, ctx) => {
    try {
      return await handler(job, ctx);
    } finally {
      if (++settled >= count) setTimeout(() => stop.abort(), 20);
    }
  }, { signal: stop.signal, idlePollMs: 50, retryDelayS: 0 });
  await done;
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  const test = (name: string, body: (db: Database, path: string) => void | Promise<void>) =>
    it(name, { skip, ...SLOW }, withDb(entry, body));

  describe(`${entry.id}: job events`, () => {
    test("every event type is recorded in commit order, with its attempt and data", (db) => {
      const q = db.queue("q", { events: true });
      const before = sqlNow(db);
      const a = q.enqueue("a", { priority: 2 });
      const first = q.claimOne("w")!;
      assert.ok(first.progress({ done: 1 }));
      first.retry(0, "oops");
      q.claimOne("w")?.ack();
      const b = q.enqueue("b", { maxAttempts: 5 });
      q.claimOne("w")?.fail("bad");
      const c = q.enqueue("c");
      q.cancel(c);
      const d = q.enqueue("d");
      q.claimOne("w");
      q.cancel(d);
      // Each runAt is the second its write ran in: the test may cross a second boundary.
      const after = sqlNow(db);
      const events = stored(db, "q").map(([id, type, attempt, data]) => {
        const runAt = (data as { runAt?: number } | null)?.runAt;
        if (runAt === undefined) return [id, type, attempt, data];
        assert.ok(runAt >= before && runAt <= after, `runAt ${runAt} not in [${before}, ${after}]`);
        return [id, type, attempt, { ...(data as object), runAt: "now" }];
      });
      assert.deepEqual(events, [
        [a, "enqueued", 0, { runAt: "now", priority: 2 }],
        [a, "active", 1, { workerId: "w" }],
        [a, "progress", 1, { progress: { done: 1 } }],
        [a, "failed", 1, { error: "oops" }],
        [a, "retried", 1, { runAt: "now" }],
        [a, "active", 2, { workerId: "w" }],
        [a, "completed", 2, null],
        [b, "enqueued", 0, { runAt: "now", priority: 0 }],
        [b, "active", 1, { workerId: "w" }],
        [b, "failed", 1, { error: "bad" }],
        [b, "dead", 1, { error: "bad" }],
        [c, "enqueued", 0, { runAt: "now", priority: 0 }],
        [c, "cancelled", 0, null],
        [d, "enqueued", 0, { runAt: "now", priority: 0 }],
        [d, "active", 1, { workerId: "w" }],
        [d, "cancelled", 1, null],
      ]);
    });

    test("a claim taken again after its visibility timeout is another active event", (db) => {
      const q = db.queue("q", { events: true, visibilityTimeoutS: 30 });
      const id = q.enqueue("x");
      q.claimOne("w1");
      q.claimOne("w1")?.heartbeat(); // nothing due: no event
      db.driver.run("UPDATE _honker_live SET claim_expires_at = unixepoch() - 1 WHERE id = ?", [
        id,
      ]);
      q.claimOne("w2");
      assert.deepEqual(stored(db, "q").map((e) => [e[1], e[2], e[3]]).slice(1), [
        ["active", 1, { workerId: "w1" }],
        ["active", 2, { workerId: "w2" }],
      ]);
    });

    test("work(): the handler's return value is the job's result and its completed event's", async (db) => {
      const q = db.queue<number>("q", { events: true });
      const [ok, none, bad] = q.enqueueMany([1, 2, 3], { maxAttempts: 2 });
      await workUntil(q, (job) => {
        if (job.payload === 3) throw new Error("no three");
        return job.payload === 1 ? { twice: 2 } : undefined;
      }, 4);
      assert.deepEqual(db.getResult(ok), { twice: 2 });
      assert.equal(db.getResult(none), undefined);
      const events = stored(db, "q");
      const ofJob = (id: number) => events.filter((e) => e[0] === id).map((e) => [e[1], e[3]]);
      assert.deepEqual(ofJob(ok).at(-1), ["completed", { result: { twice: 2 } }]);
      assert.deepEqual(ofJob(none).at(-1), ["completed", null]);
      assert.deepEqual(ofJob(bad).map((e) => e[0]), [
        "enqueued",
        "active",
        "failed",
        "retried",
        "active",
        "failed",
        "dead",
      ]);
      assert.deepEqual(ofJob(bad).at(-1), ["dead", { error: "Error: no three" }]);
      const expiresIn = db.driver.get<{ s: number }>(
        "SELECT expires_at - unixepoch() AS s FROM _honker_results WHERE job_id = ?",
        [ok],
      )?.s;
      assert.ok(expiresIn! > 86_400 - 5 && expiresIn! <= 86_400, `TTL ${expiresIn}`);
    });

    test("a result is stored without events, with the queue's resultTtlS", async (db) => {
      const q = db.queue<number>("q", { resultTtlS: 60 });
      const id = q.enqueue(1);
      await workUntil(q, () => "done", 1);
      assert.equal(db.getResult(id), "done");
      assert.equal(countRows(db, "_honker_ts_job_events"), 0);
      const ttl = db.driver.get<{ s: number }>(
        "SELECT expires_at - unixepoch() AS s FROM _honker_results WHERE job_id = ?",
        [id],
      )?.s;
      assert.ok(ttl! > 55 && ttl! <= 60, `TTL ${ttl}`);
    });

    test("a handler's return value is not stored when its ack fails (the claim was lost)", async (db) => {
      const q = db.queue<number>("q");
      const id = q.enqueue(1);
      await workUntil(q, (job) => {
        q.cancel(job.id);
        return "too late";
      }, 1);
      assert.equal(db.getResult(id), undefined);
      assert.equal(countRows(db, "_honker_results"), 0);
    });

    test("a queue without events records none; events: false switches them off for the file", (db) => {
      db.queue("off").enqueue(1);
      db.queue("off").claimOne("w")?.ack();
      assert.equal(countRows(db, "_honker_ts_job_events"), 0);
      db.queue("on", { events: true });
      // Another handle without the option still records: the setting is the file's.
      db.queue("on").enqueue(1);
      assert.equal(countRows(db, "_honker_ts_job_events"), 1);
      db.queue("on", { events: false }).enqueue(2);
      assert.equal(countRows(db, "_honker_ts_job_events"), 1);
    });

    test("events of a rolled-back transaction never appear", (db) => {
      const q = db.queue("q", { events: true });
      const kept = q.enqueue("kept");
      assert.throws(() =>
        db.transaction((tx) => {
          q.enqueue("gone", { tx });
          q.claimOne("w")?.ack();
          throw new Error("roll back");
        }), /roll back/);
      assert.deepEqual(stored(db, "q").map((e) => [e[0], e[1]]), [[kept, "enqueued"]]);
    });

    test("events() yields what follows since, woken by this process's claims and acks", async (db) => {
      const q = db.queue("q", { events: true });
      const early = q.enqueue("before the iterator", { delayS: 3600 });
      const stop = new AbortController();
      const fresh = q.events({ signal: stop.signal, idlePollMs: null });
      const all = q.events({ since: 0, signal: stop.signal, idlePollMs: null });
      const pending = take(fresh, 3);
      await sleep(20);
      // Another queue's events in between are walked past, not yielded.
      const other = db.queue("other", { events: true });
      other.enqueueMany(Array.from({ length: 300 }, (_, i) => i));
      const id = q.enqueue("after");
      other.enqueue("more");
      const job = q.claimOne("w");
      await sleep(20); // the iterator sleeps between the claim and the ack: the ack wakes it
      job?.ack();
      const seen = await pending;
      assert.deepEqual(seen.map((e) => [e.jobId, e.type]), [
        [id, "enqueued"],
        [id, "active"],
        [id, "completed"],
      ]);
      assert.ok(seen.every((e, i) => i === 0 || e.id > seen[i - 1].id));
      const replay = await take(all, 4);
      assert.deepEqual(replay.map((e) => e.jobId), [early, id, id, id]);
      assert.ok(replay.every((e) => e.queue === "q"));
      const resumed = q.events({ since: seen[0].id, signal: stop.signal, idlePollMs: null });
      assert.deepEqual((await take(resumed, 2)).map((e) => e.type), ["active", "completed"]);
      stop.abort();
      assert.deepEqual(await fresh.next(), { done: true, value: undefined });
    });

    test("retention deletes events older than jobEventsS", async (_, path) => {
      const driver = await entry.open(path);
      const db = fromDriver(driver, { retention: { jobEventsS: 3600 } });
      try {
        const q = db.queue("q", { events: true });
        q.enqueueMany([1, 2, 3]);
        db.driver.run(
          "UPDATE _honker_ts_job_events SET created_at = unixepoch() - 7200 WHERE job_id < 3",
        );
        assert.equal(db.runMaintenance().jobEvents, 2);
        assert.deepEqual(stored(db, "q").map((e) => e[0]), [3]);
        // The newest event is kept however old, so that no id is ever handed out again.
        db.driver.run("UPDATE _honker_ts_job_events SET created_at = unixepoch() - 7200");
        assert.equal(db.runMaintenance().jobEvents, 0);
        const newest =
          db.driver.get<{ id: number }>("SELECT max(id) AS id FROM _honker_ts_job_events")!.id;
        q.enqueue(4);
        assert.equal(db.runMaintenance().jobEvents, 1);
        const ids = db.driver.all<{ id: number }>("SELECT id FROM _honker_ts_job_events").map((r) =>
          r.id
        );
        assert.deepEqual(ids, [newest + 1]);
      } finally {
        db.close();
        driver.close();
      }
    });
  });

  describe(`${entry.id}: waitFor() and getJob()`, () => {
    test("waitFor() resolves with the result once work() acks, woken by the ack", async (db) => {
      const q = db.queue<number>("q");
      const id = q.enqueue(21);
      const waited = q.waitFor<number>(id, { idlePollMs: null, timeoutMs: 10_000 });
      await workUntil(q, (job) => job.payload * 2, 1);
      assert.equal(await waited, 42);
      assert.equal(await q.waitFor(id), 42, "once done, at once");
    });

    test("waitFor() resolves undefined for a job completed without a result", async (db) => {
      const q = db.queue<number>("q");
      const id = q.enqueue(1);
      const waited = q.waitFor(id, { idlePollMs: null, timeoutMs: 10_000 });
      q.claimOne("w")?.ack();
      assert.equal(await waited, undefined);
      // Asked afterwards: the id was handed out and is gone, so it finished.
      assert.equal(await q.waitFor(id), undefined);
      const e = db.queue("e", { events: true });
      const eid = e.enqueue(1);
      e.claimOne("w")?.ack();
      assert.equal(await e.waitFor(eid), undefined);
    });

    test("waitFor() rejects with JobFailedError once the job is dead", async (db) => {
      const q = db.queue<number>("q");
      const id = q.enqueue(1, { maxAttempts: 1 });
      const waited = assert.rejects(
        q.waitFor(id, { idlePollMs: null, timeoutMs: 10_000 }),
        (e: unknown) => {
          assert.ok(e instanceof JobFailedError);
          assert.equal(e.lastError, "Error: broken");
          assert.equal(e.jobId, id);
          return true;
        },
      );
      await workUntil(q, () => {
        throw new Error("broken");
      }, 1);
      await waited;
    });

    test("waitFor() rejects for a cancelled or unknown job, a timeout and an abort", async (db) => {
      const q = db.queue("q", { events: true });
      const id = q.enqueue(1);
      const waited = q.waitFor(id, { idlePollMs: null });
      q.cancel(id);
      await assert.rejects(
        waited,
        (e) => e instanceof JobNotFoundError && e.reason === "cancelled",
      );
      await assert.rejects(
        q.waitFor(9999),
        (e) => e instanceof JobNotFoundError && e.reason === "unknown",
      );
      // A dead job requeued under a new id died all the same.
      const dying = q.enqueue(4, { maxAttempts: 1 });
      q.claimOne("w")?.fail("gone");
      assert.ok(q.requeueDead(dying) !== null);
      await assert.rejects(
        q.waitFor(dying),
        (e) => e instanceof JobFailedError && e.lastError === "gone",
      );
      const live = q.enqueue(2);
      const started = Date.now();
      await assert.rejects(q.waitFor(live, { timeoutMs: 50 }), JobWaitTimeoutError);
      assert.ok(Date.now() - started < 5000);
      const stop = new AbortController();
      const aborted = q.waitFor(live, { signal: stop.signal });
      stop.abort(new Error("enough"));
      await assert.rejects(aborted, /enough/);
      // A job of another queue is not this queue's.
      const other = db.queue("other").enqueue(3);
      await assert.rejects(q.waitFor(other), JobNotFoundError);
    });

    test("getJob() reports progress while live, then completed with the result, or dead", async (db) => {
      const q = db.queue<number>("q");
      const id = q.enqueue(1);
      const job = q.claimOne("w")!;
      assert.equal(q.getJob(id)?.progress, undefined);
      job.progress({ pct: 50 });
      job.progress({ pct: 80 });
      assert.deepEqual(q.getJob(id)?.progress, { pct: 80 });
      job.ack();
      assert.equal(countRows(db, "_honker_ts_job_progress"), 0, "freed with the live row");
      assert.equal(q.getJob(id), null, "no result, no events: nothing left of it");
      const withResult = q.enqueue(2);
      await workUntil(q, () => ({ ok: true }), 1);
      const done = q.getJob(withResult);
      assert.equal(done?.state, "completed");
      assert.deepEqual(done?.result, { ok: true });
      const dying = q.enqueue(3);
      q.claimOne("w")?.fail("nope");
      const dead = q.getJob(dying);
      assert.deepEqual([dead?.state, dead?.payload, dead?.lastError], ["dead", 3, "nope"]);
      assert.equal(job.progress(1), false, "a settled job's progress is refused");
    });

    test("bad arguments are refused before anything is written", (db) => {
      const bad = refusals(db.queue.bind(db));
      bad(
        ["q", { events: "yes" }],
        TypeError,
        /Cannot open queue "q": events must be true or false/,
      );
      bad(["q", { resultTtlS: -1 }], RangeError, /resultTtlS/);
      assert.equal(countRows(db, "_honker_ts_queues"), 0);
      const q = db.queue("q");
      assert.throws(
        () => q.events({ sinse: 1 } as never),
        /Cannot read events of queue "q".*sinse/,
      );
      assert.throws(() => q.events({ since: -1 }), RangeError);
      assert.rejects(q.waitFor(0), /Cannot wait for a job of queue "q": jobId/);
      assert.rejects(q.waitFor(1, { timeoutMs: -1 }), RangeError);
      q.enqueue(1);
      const job = q.claimOne("w")!;
      assert.throws(
        () => job.progress(10n),
        /Cannot report progress of job 1 of queue "q".*BigInt/,
      );
      assert.equal(countRows(db, "_honker_ts_job_progress"), 0);
    });
  });
}
