// The application's own transaction on the connection honker-ts shares (an ORM's BEGIN on the
// same handle, open across an await): calls the application makes join it, writes honker-ts
// makes on its own wait until it ends and then commit on their own, and wake-ups keep working.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import type { Database, SqliteDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { countRows } from "./_db.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";

/** A Database sharing `app`, the application's own connection, plus a second connection. */
async function shared(
  entry: DriverEntry,
  body: (db: Database, app: SqliteDriver, other: SqliteDriver) => void | Promise<void>,
): Promise<void> {
  const path = tempDbPath();
  const app = await entry.open(path);
  const db = fromDriver(app);
  const other = await entry.open(path);
  try {
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)");
    await body(db, app, other);
  } finally {
    if (app.inTransaction()) app.exec("ROLLBACK");
    db.close();
    app.close();
    other.close();
  }
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: the application's transaction on the shared connection`, () => {
    it(
      "inTransaction() reports a transaction anyone opened on the handle",
      { skip },
      () =>
        shared(entry, (db, app) => {
          assert.equal(app.inTransaction(), false);
          app.exec("BEGIN");
          assert.equal(app.inTransaction(), true);
          app.exec("COMMIT");
          db.transaction(() => assert.equal(app.inTransaction(), true));
          assert.equal(app.inTransaction(), false);
        }),
    );

    it(
      "job.fail(), a last-attempt job.retry(), requeueDead(), tryLock() and db.transaction() join it: a rollback undoes them, a commit keeps them",
      { skip },
      () =>
        shared(entry, (db, app) => {
          const q = db.queue<string>("jobs", { maxAttempts: 1 });
          const run = (outcome: "ROLLBACK" | "COMMIT") => {
            q.enqueueMany(["fail", "retry"]);
            const [toFail, toRetry] = q.claimBatch("w", 2);
            const deadId = db.driver.get<{ id: number }>(
              "SELECT id FROM _honker_dead ORDER BY id LIMIT 1",
            )?.id;
            app.exec("BEGIN");
            app.run("INSERT INTO orders (total) VALUES (?)", [100]);
            assert.equal(toFail.fail("no"), true);
            assert.equal(toRetry.retry(0, "again"), true); // out of attempts: dead
            const requeued = deadId === undefined ? null : q.requeueDead(deadId);
            const lock = db.tryLock("l", { owner: "me", ttlS: 60 });
            assert.ok(lock);
            db.transaction((tx) => tx.run("INSERT INTO orders (total) VALUES (?)", [7]));
            assert.equal(app.inTransaction(), true, "the application's transaction is still open");
            app.exec(outcome);
            return requeued;
          };
          run("ROLLBACK");
          assert.equal(countRows(db, "orders"), 0);
          assert.equal(countRows(db, "_honker_dead"), 0);
          assert.equal(countRows(db, "_honker_locks"), 0);
          assert.equal(countRows(db, "_honker_live", "state = 'processing'"), 2);
          db.driver.run("DELETE FROM _honker_live");
          run("COMMIT");
          assert.equal(countRows(db, "orders"), 2);
          assert.equal(countRows(db, "_honker_dead"), 2);
          assert.equal(countRows(db, "_honker_locks"), 1);
          // A second round requeues one of the dead jobs inside the application's transaction.
          db.driver.run("DELETE FROM _honker_locks");
          assert.ok(run("COMMIT"));
        }),
    );

    it(
      "work()'s ack while the application's transaction is open across an await waits for it, then commits on its own: a rollback does not undo it and the job never runs again",
      { skip, timeout: 20_000 },
      () =>
        shared(entry, async (db, app) => {
          const q = db.queue<number>("jobs", { visibilityTimeoutS: 2 });
          q.enqueue(1);
          const runs: number[] = [];
          let handlerDone = false;
          const stop = new AbortController();
          // The application opens its transaction while the handler runs, and keeps it open
          // across awaits until after the handler returned (an ORM's async transaction).
          const done = q.work(async (job) => {
            runs.push(job.payload);
            app.exec("BEGIN");
            app.run("INSERT INTO orders (total) VALUES (?)", [1]);
            await sleep(20);
            handlerDone = true;
          }, { signal: stop.signal, idlePollMs: 50 });
          await eventually(() => handlerDone, 5000, "the handler");
          await sleep(300); // work() wants to ack now
          assert.equal(countRows(db, "_honker_live"), 1, "the ack must not run inside it");
          app.exec("ROLLBACK");
          await eventually(() => countRows(db, "_honker_live") === 0, 5000, "the ack");
          await sleep(2500); // past the visibility timeout: a lost ack would run the job again
          stop.abort();
          assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
          assert.deepEqual(runs, [1]);
          assert.equal(countRows(db, "orders"), 0);
        }),
    );

    it(
      "a handler's own ack inside the application's transaction counts only if it commits: rolled back, the job runs again",
      { skip, timeout: 20_000 },
      () =>
        shared(entry, async (db, app) => {
          const q = db.queue<number>("jobs");
          q.enqueueMany([1, 2]);
          const runs: number[] = [];
          const stop = new AbortController();
          const done = q.work(async (job) => {
            runs.push(job.payload);
            app.exec("BEGIN");
            app.run("INSERT INTO orders (total) VALUES (?)", [job.payload]);
            assert.equal(job.ack(), true); // joins the application's transaction
            await sleep(20);
            // Job 1's first run is rolled back with the order; every other run commits.
            app.exec(job.payload === 1 && runs.length === 1 ? "ROLLBACK" : "COMMIT");
          }, { signal: stop.signal, idlePollMs: 50 });
          await eventually(() => countRows(db, "_honker_live") === 0, 5000, "both jobs done");
          stop.abort();
          const result = await done;
          assert.deepEqual(runs.toSorted(), [1, 1, 2]);
          assert.equal(countRows(db, "orders"), 2);
          assert.equal(result.acked, 2);
        }),
    );

    it(
      "a subscription's offset saves wait for the application's transaction and survive its rollback",
      { skip, timeout: 20_000 },
      () =>
        shared(entry, async (db, app) => {
          const s = db.stream<number>("t");
          const offsets = s.publishMany([1, 2, 3]);
          const events = s.subscribe("c", { saveEveryN: 1, idlePollMs: 50 });
          assert.equal((await events.next()).value?.payload, 1);
          app.exec("BEGIN");
          app.run("INSERT INTO orders (total) VALUES (?)", [1]);
          assert.equal((await events.next()).value?.payload, 2); // event 1 handled: a save
          assert.equal((await events.next()).value?.payload, 3); // event 2 handled
          app.exec("ROLLBACK");
          await events.return?.(); // saves what was handled, now outside any transaction
          assert.equal(s.getOffset("c"), offsets[1]);
        }),
    );

    it(
      "a commit by another connection wakes a waiting claim while the application holds a read transaction open",
      { skip, timeout: 20_000 },
      () =>
        shared(entry, async (db, app, other) => {
          const jobs = db.queue<number>("jobs").claim("w", { idlePollMs: null });
          const next = jobs.next();
          await sleep(50);
          app.exec("BEGIN");
          app.get("SELECT count(*) AS n FROM orders"); // a read snapshot
          other.run("INSERT INTO _honker_live (queue, payload) VALUES ('jobs', '5')");
          await sleep(200);
          app.exec("COMMIT");
          const started = Date.now();
          const job = await Promise.race([
            next.then((r) => r.value),
            sleep(5000).then(() => undefined),
          ]);
          assert.equal(job?.payload, 5, "the claim was not woken");
          assert.ok(Date.now() - started < 2000, `claimed ${Date.now() - started} ms after COMMIT`);
          await jobs.return?.();
        }),
    );
  });
}
