// Queue behaviours from honker's own tests (spec §9 items 1–12, 19, 21–23), on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: Queue`, () => {
    it(
      "enqueue() returns an id, claimOne() returns it once, ack() completes it",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue<{ hello: string }>("q");
        const id = q.enqueue({ hello: "world" });
        assert.ok(id > 0);
        const job = q.claimOne("w1");
        assert.ok(job);
        assert.equal(job.id, id);
        assert.equal(job.attempts, 1);
        assert.deepEqual(job.payload, { hello: "world" });
        assert.equal(job.workerId, "w1");
        assert.equal(job.ack(), true);
        assert.equal(q.claimOne("w1"), null);
        assert.equal(countRows(db, "_honker_live"), 0);
      }),
    );

    it(
      "claimBatch() takes at most n, ackBatch() acks them, the rest stay",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueueMany([1, 2, 3, 4, 5]);
        const batch = q.claimBatch("w", 3);
        assert.equal(batch.length, 3);
        assert.equal(q.ackBatch("w", batch.map((j) => j.id)), 3);
        assert.equal(q.claimBatch("w", 10).length, 2);
      }),
    );

    it(
      "retry() at max attempts moves the job to dead",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { maxAttempts: 2 });
        q.enqueue({ n: 1 });
        assert.equal(q.claimOne("w")?.retry(0, "first"), true);
        const second = q.claimOne("w");
        assert.equal(second?.attempts, 2);
        assert.equal(second?.retry(0, "second"), true);
        assert.equal(q.claimOne("w"), null);
        assert.equal(countRows(db, "_honker_dead"), 1);
        const [dead] = q.deadLetters();
        assert.equal(dead.lastError, "second");
        assert.equal(dead.attempts, 2);
      }),
    );

    it(
      "retry() lets another worker reclaim with attempts 2; fail() sends to dead",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue("x");
        assert.equal(q.claimOne("w1")?.retry(0), true);
        const again = q.claimOne("w2");
        assert.equal(again?.attempts, 2);
        assert.equal(again?.fail("boom"), true);
        assert.equal(q.stats().dead, 1);
        assert.equal(q.deadLetters()[0].lastError, "boom");
      }),
    );

    it(
      "retry() that stays pending clears the claim and keeps attempts",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue({ n: 1 });
        const notificationsBefore = countRows(db, "_honker_notifications");
        assert.equal(q.claimOne("w")?.retry(30, "later"), true);
        const row = q.getJob(id);
        assert.equal(row?.state, "pending");
        assert.equal(row?.workerId, null);
        assert.equal(row?.claimExpiresAt, null);
        assert.equal(row?.attempts, 1);
        assert.ok(Math.abs((row?.runAt ?? 0) - (sqlNow(db) + 30)) <= 2);
        assert.equal(countRows(db, "_honker_notifications"), notificationsBefore);
      }),
    );

    it(
      "fail() sends to dead whatever the attempts",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { maxAttempts: 10 });
        q.enqueue(1);
        assert.equal(q.claimOne("w")?.fail("bad input"), true);
        const [dead] = q.deadLetters();
        assert.equal(dead.attempts, 1);
        assert.equal(dead.maxAttempts, 10);
        assert.equal(dead.lastError, "bad input");
      }),
    );

    it(
      "claims by priority: 10, then 5, then 0",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue("p0", { priority: 0 });
        q.enqueue("p10", { priority: 10 });
        q.enqueue("p5", { priority: 5 });
        assert.deepEqual(q.claimBatch("w", 3).map((j) => j.payload), ["p10", "p5", "p0"]);
      }),
    );

    it(
      "a job whose run_at is in the future is not claimable until due",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue("later", { runAt: sqlNow(db) + 3600 });
        assert.equal(q.claimOne("w"), null);
        assert.equal(q.stats().scheduled, 1);
        db.driver.run("UPDATE _honker_live SET run_at = unixepoch() WHERE id = ?", [id]);
        assert.equal(q.claimOne("w")?.id, id);
      }),
    );

    it(
      "delayS wins over runAt, as honker's delay does",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue("x", { runAt: 1000, delayS: 60 });
        assert.ok(Math.abs((q.getJob(id)?.runAt ?? 0) - (sqlNow(db) + 60)) <= 1);
        const at = q.enqueue("y", { runAt: new Date((sqlNow(db) + 90) * 1000) });
        assert.ok(Math.abs((q.getJob(at)?.runAt ?? 0) - (sqlNow(db) + 90)) <= 1);
      }),
    );

    it(
      "expiresS sets expires_at; an expired job is never claimed",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const soon = q.enqueue("a", { expiresS: 60 });
        assert.ok(Math.abs((q.getJob(soon)?.expiresAt ?? 0) - (sqlNow(db) + 60)) <= 1);
        const never = q.enqueue("b");
        assert.equal(q.getJob(never)?.expiresAt, null);
        db.driver.run("UPDATE _honker_live SET expires_at = unixepoch() - 1 WHERE id = ?", [soon]);
        assert.deepEqual(q.claimBatch("w", 5).map((j) => j.id), [never]);
      }),
    );

    it(
      "sweepExpired() moves only expired pending rows, with reason 'expired'",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const [a, b] = q.enqueueMany(["a", "b"], { expiresS: 60 });
        q.enqueue("c", { expiresS: 3600 });
        q.enqueue("d");
        db.driver.run("UPDATE _honker_live SET expires_at = unixepoch() - 1 WHERE id IN (?, ?)", [
          a,
          b,
        ]);
        assert.equal(q.sweepExpired(), 2);
        assert.equal(q.sweepExpired(), 0);
        assert.deepEqual(q.deadLetters().map((d) => [d.id, d.lastError]), [[b, "expired"], [
          a,
          "expired",
        ]]);
        assert.equal(countRows(db, "_honker_live"), 2);
      }),
    );

    it(
      "enqueue writes no notification rows",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        for (let i = 0; i < 50; i++) q.enqueue(i);
        assert.equal(countRows(db, "_honker_notifications"), 0);
      }),
    );

    it(
      "cancel() deletes pending or processing jobs; the holder's ack then fails",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue("x");
        assert.equal(q.cancel(id), true);
        assert.equal(q.cancel(id), false);
        assert.equal(q.getJob(id), null);
        assert.equal(q.claimOne("w"), null);
        q.enqueue("y");
        const held = q.claimOne("w");
        assert.ok(held);
        assert.equal(q.cancel(held.id), true);
        assert.equal(held.ack(), false);
        assert.equal(countRows(db, "_honker_dead"), 0);
      }),
    );

    it(
      "getJob() reads pending jobs and returns null after ack",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue({ k: "v" });
        const info = q.getJob(id);
        assert.equal(info?.state, "pending");
        assert.equal(info?.id, id);
        assert.equal(info?.queue, "q");
        assert.deepEqual(info?.payload, { k: "v" });
        assert.equal(
          db.driver.get<{ payload: string }>("SELECT payload FROM _honker_live")?.payload,
          '{"k":"v"}',
        );
        q.claimOne("w")?.ack();
        assert.equal(q.getJob(id), null);
      }),
    );

    it(
      "enqueue({ tx }) commits and rolls back with the business write",
      { skip },
      withDb(entry, (db) => {
        db.driver.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)");
        const q = db.queue("emails");
        assert.throws(() =>
          db.transaction((tx) => {
            tx.run("INSERT INTO orders (id, total) VALUES (?, ?)", [1, 10]);
            q.enqueue({ order: 1 }, { tx });
            throw new Error("payment declined");
          }), /payment declined/);
        assert.equal(countRows(db, "orders"), 0);
        assert.equal(countRows(db, "_honker_live"), 0);
        const id = db.transaction((tx) => {
          tx.run("INSERT INTO orders (id, total) VALUES (?, ?)", [2, 20]);
          return q.enqueue({ order: 2 }, { tx });
        });
        assert.equal(countRows(db, "orders"), 1);
        assert.deepEqual(q.claimOne("w")?.payload, { order: 2 });
        assert.ok(id > 0);
      }),
    );

    it(
      "enqueueMany() inserts in one statement, ids ascending in payload order",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const payloads = Array.from({ length: 300 }, (_, i) => ({ i, s: `é${i}"` }));
        const ids = q.enqueueMany(payloads, { priority: 2, maxAttempts: 7 });
        assert.equal(ids.length, 300);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
        const claimed = q.claimBatch("w", 300);
        assert.deepEqual(claimed.map((j) => j.payload), payloads);
        assert.ok(claimed.every((j) => j.priority === 2 && j.maxAttempts === 7));
        assert.deepEqual(q.enqueueMany([]), []);
      }),
    );

    it(
      "stores a string payload with its quotes, as honker does",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue<string>("q");
        q.enqueue("hello");
        assert.equal(
          db.driver.get<{ payload: string }>("SELECT payload FROM _honker_live")?.payload,
          '"hello"',
        );
        assert.equal(q.claimOne("w")?.payload, "hello");
      }),
    );
  });
}
