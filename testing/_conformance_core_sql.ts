/**
 * Conformance tests with the SQL honker-ts itself sends: every statement of the core, prepared
 * on the adapter with one value per `?`, and a round of the calls an application makes (queue,
 * results, stream, notifications, lock, rate limit, scheduler, maintenance). An adapter can keep
 * every rule tested elsewhere and still fail here, as one that cannot bind what the core binds
 * would fail every claim.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Database } from "../core/database.ts";
import { bootstrapSchema } from "../core/schema/schema.ts";
import { coreStatements, isMultiStatement, sqlParameters } from "./_core_sql.ts";
import type { Register } from "./_conformance_shared.ts";

/** DDL takes no parameters, and preparing a migration twice fails on its duplicate column. */
const DDL = /^\s*(CREATE|DROP|ALTER)\b/i;

function statementTest(test: Register): void {
  test("prepares every statement honker-ts sends, bound with one value per `?`", (db) => {
    bootstrapSchema(db);
    const failures: string[] = [];
    let checked = 0;
    for (const { name, sql } of coreStatements()) {
      const { positional, other } = sqlParameters(sql);
      if (other.length > 0) failures.push(`${name} uses ${[...new Set(other)].join(" ")}`);
      if (DDL.test(sql) || isMultiStatement(sql)) continue;
      checked++;
      try {
        // EXPLAIN prepares and binds the statement without running it.
        db.all(`EXPLAIN ${sql}`, Array(positional).fill(null));
      } catch (error) {
        failures.push(`${name} with ${positional} values: ${(error as Error).message}`);
      }
    }
    assert.deepEqual(failures, [], "statements the driver cannot take as the core sends them");
    assert.ok(checked >= 50, `only ${checked} statements checked`);
  });
}

function queueRound(honker: Database): void {
  const queue = honker.queue<{ n: number }>("conformance");
  const first = queue.enqueue({ n: 1 });
  const more = queue.enqueueMany([{ n: 2 }, { n: 3 }, { n: 4 }]);
  assert.deepEqual({ ...queue.stats() }, {
    pending: 4,
    scheduled: 0,
    processing: 0,
    dead: 0,
    retrying: 0,
    stalled: 0,
    paused: false,
  });
  const job = queue.claimOne("worker");
  assert.equal(job?.id, first);
  assert.equal(job.heartbeat(30), true);
  assert.equal(job.ack(), true);
  const batch = queue.claimBatch("worker", 10);
  assert.deepEqual(batch.map((claimed) => claimed.payload.n), [2, 3, 4]);
  assert.deepEqual(batch.map((claimed) => claimed.id), more);
  batch[0].retry(0, "again");
  batch[1].fail("boom");
  assert.equal(queue.ackBatch("worker", [batch[2].id]), 1);
  honker.saveResult(first, { ok: true }, { ttlS: 60 });
  assert.deepEqual(honker.getResult(first), { ok: true });
  assert.equal(queue.deadLetters().length, 1);
  assert.equal(queue.nextClaimAt(), 0);
  assert.deepEqual({ ...queue.stats() }, {
    pending: 1,
    scheduled: 0,
    processing: 0,
    dead: 1,
    retrying: 1,
    stalled: 0,
    paused: false,
  });
  assert.equal(queue.purgeDead(), 1);
}

function streamRound(honker: Database): void {
  const stream = honker.stream<{ n: number }>("conformance");
  const offset = stream.publish({ n: 1 });
  stream.publishMany([{ n: 2 }, { n: 3 }]);
  assert.deepEqual(stream.readSince(0).map((event) => event.payload.n), [1, 2, 3]);
  assert.equal(stream.saveOffset("reader", offset), true);
  assert.equal(stream.lag("reader"), 2);
  assert.equal(stream.trim({ keepLast: 1, force: true }), 2);
  honker.notify("conformance", { n: 1 });
  honker.notify("conformance", { n: 2 });
  assert.equal(honker.pruneNotifications({ maxKeep: 1 }), 1);
}

function coordinationRound(honker: Database): void {
  const lock = honker.tryLock("conformance", { owner: "me", ttlS: 30 });
  assert.ok(lock, "the lock was not taken");
  assert.equal(honker.tryLock("conformance", { owner: "someone else", ttlS: 30 }), null);
  assert.equal(lock.heartbeat(30), true);
  assert.equal(lock.release(), true);
  assert.equal(honker.tryRateLimit("conformance", { limit: 1, perS: 60 }), true);
  assert.equal(honker.tryRateLimit("conformance", { limit: 1, perS: 60 }), false);
  assert.equal(honker.sweepRateLimits({ olderThanS: 3600 }), 0);
  const scheduler = honker.scheduler();
  scheduler.add({ name: "conformance", queue: "ticks", schedule: "* * * * *" });
  assert.equal(scheduler.tick(scheduler.soonest()).length, 1);
  assert.equal(scheduler.pause("conformance"), true);
  assert.equal(scheduler.remove("conformance"), true);
}

function callTest(test: Register): void {
  test("runs honker-ts's own calls: queue, results, stream, notify, lock, rate limit, scheduler, maintenance", (db) => {
    const honker = new Database(db, { ownsDriver: false });
    try {
      queueRound(honker);
      streamRound(honker);
      coordinationRound(honker);
      honker.runMaintenance();
    } finally {
      honker.close();
    }
  });
}

/** Registers the tests with honker-ts's own SQL. */
export function coreSqlTests(test: Register): void {
  statementTest(test);
  callTest(test);
}
