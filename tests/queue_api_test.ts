// Bad input, payload contract, results, stats and dead letters of the Queue API.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DatabaseClosedError } from "../mod.ts";
import type { Database, StandardSchemaV1 } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";

/** A schema for results `{ cents }` that hands out euros (a transforming schema). */
const Euros: StandardSchemaV1<{ cents: number }, number> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (v) =>
      typeof (v as { cents?: unknown } | null)?.cents === "number"
        ? { value: (v as { cents: number }).cents / 100 }
        : { issues: [{ message: "cents must be a number", path: ["cents"] }] },
  },
};

/** True when `T` is `unknown`: a value nothing has checked. */
type IsUnknown<T> = unknown extends T ? true : false;

/** Every table's rows, to prove a refused call wrote nothing. */
function snapshot(db: Database): string {
  return JSON.stringify(
    ["_honker_live", "_honker_dead", "_honker_results", "sqlite_sequence"].map((t) =>
      db.driver.all(`SELECT * FROM ${t} ORDER BY 1`).map((r) => ({ ...r }))
    ),
  );
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: Queue API`, () => {
    it(
      "refuses payloads JSON cannot represent, naming the path, and writes nothing",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue<unknown>("emails");
        q.enqueue({ warm: "up" });
        const before = snapshot(db);
        const cyclic: Record<string, unknown> = { a: 1 };
        cyclic.self = cyclic;
        const cases: Array<[unknown, RegExp]> = [
          [
            { n: 1n },
            /Cannot enqueue to queue "emails": payload is not JSON-serialisable \(BigInt at \$\.n\)/,
          ],
          [cyclic, /circular reference at \$\.self/],
          [{ f: () => 1 }, /function at \$\.f/],
          [[1, Symbol("s")], /symbol at \$\[1\]/],
          [undefined, /undefined at \$/],
          [{ x: NaN }, /NaN at \$\.x/],
          [{ deep: [{ y: Infinity }] }, /Infinity at \$\.deep\[0\]\.y/],
          [{ m: new Map() }, /Map at \$\.m/],
          [{ "odd key": new Uint8Array(1) }, /Uint8Array at \$\["odd key"\]/],
        ];
        for (const [payload, message] of cases) {
          assert.throws(
            () => q.enqueue(payload),
            (e: Error) => e instanceof TypeError && message.test(e.message),
          );
        }
        assert.throws(() => q.enqueueMany([1, { n: 2n }]), /payload 1.*BigInt at \$\.n/);
        assert.equal(snapshot(db), before);
      }),
    );

    it(
      "refuses a Date, an object with toJSON and a class instance, which JSON would hand back changed",
      { skip },
      withDb(entry, (db) => {
        class Money {
          cents: number;
          constructor(cents: number) {
            this.cents = cents;
          }
        }
        const q = db.queue<unknown>("q");
        const cases: Array<[unknown, RegExp]> = [
          // Typed as a Date, it would come back from claim() as a string.
          [{ at: new Date(0) }, /\(Date at \$\.at: JSON turns it into a string/],
          [{ at: { toJSON: () => 1 } }, /\(object with toJSON at \$\.at/],
          [[new Money(5)], /\(Money instance at \$\[0\]: JSON turns it into a plain object/],
          [{ [Symbol("k")]: 1 }, /\(symbol key at \$/],
        ];
        for (const [payload, message] of cases) {
          assert.throws(
            () => q.enqueue(payload),
            (e: Error) => e instanceof TypeError && message.test(e.message),
            String(message),
          );
        }
        q.enqueue({ at: new Date(0).toISOString(), none: null, proto: Object.create(null) });
        assert.deepEqual(q.claimOne("w")?.payload, {
          at: "1970-01-01T00:00:00.000Z",
          none: null,
          proto: {},
        });
        assert.equal(countRows(db, "_honker_live"), 1);
      }),
    );

    it(
      "refuses bad arguments with TypeError/RangeError before writing",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue(1);
        const before = snapshot(db);
        const bad: Array<[() => unknown, ErrorConstructor, RegExp]> = [
          [() => db.queue(""), TypeError, /queue name must not be empty/],
          [() => db.queue(5 as unknown as string), TypeError, /queue name must be a string/],
          [
            () => db.queue("q", { visibilityTimeoutS: 0 }),
            RangeError,
            /visibilityTimeoutS must be at least 1/,
          ],
          [() => db.queue("q", { maxAttempts: 1.5 }), TypeError, /maxAttempts must be an integer/],
          [() => q.enqueue(1, { delayS: -1 }), RangeError, /delayS must not be negative/],
          [() => q.enqueue(1, { delayS: NaN }), TypeError, /delayS must be a finite number/],
          [() => q.enqueue(1, { delayS: 0.5 }), RangeError, /delayS must be whole seconds/],
          [
            () => q.enqueue(1, { expiresS: Infinity }),
            TypeError,
            /expiresS must be a finite number/,
          ],
          [() => q.enqueue(1, { priority: 1.5 }), TypeError, /priority must be an integer/],
          [() => q.enqueue(1, { maxAttempts: 0 }), RangeError, /maxAttempts must be at least 1/],
          [() => q.enqueue(1, { runAt: new Date(NaN) }), RangeError, /runAt is an invalid Date/],
          [
            () => q.enqueue(1, { runAt: "soon" as unknown as number }),
            TypeError,
            /runAt must be a Date or whole unix seconds/,
          ],
          [
            () => q.enqueue(1, null as unknown as undefined),
            TypeError,
            /options must be an object/,
          ],
          [() => q.enqueueMany("x" as unknown as number[]), TypeError, /payloads must be an array/],
          [() => q.claimBatch("", 1), TypeError, /workerId must not be empty/],
          [() => q.claimBatch("w", 0), RangeError, /n must be at least 1/],
          [() => q.claimBatch("w", -1), RangeError, /n must be at least 1/],
          [() => q.claimBatch("w", 2.5), TypeError, /n must be an integer/],
          [() => q.ackBatch("w", [1, 0]), RangeError, /ids\[1\] must be at least 1/],
          [() => q.cancel(-3), RangeError, /id must be at least 1/],
          [() => q.getJob(Number.NaN), TypeError, /id must be an integer/],
          [() => db.saveResult(1, 1, { ttlS: -5 }), RangeError, /ttlS must not be negative/],
          [() => q.deadLetters({ limit: 0 }), RangeError, /limit must be at least 1/],
          [() => q.purgeDead({ olderThanS: -1 }), RangeError, /olderThanS must not be negative/],
        ];
        for (const [call, type, message] of bad) {
          assert.throws(
            call,
            (e: Error) => e instanceof type && message.test(e.message),
            String(message),
          );
        }
        const job = q.claimOne("w");
        assert.ok(job);
        assert.throws(() => job.retry(-1), /delayS must not be negative/);
        assert.throws(() => job.retry(1, 5 as unknown as string), /error must be a string/);
        assert.throws(() => job.heartbeat(0.5), /extendS must be whole seconds/);
        job.retry(0);
        assert.equal(countRows(db, "_honker_dead"), 0);
        assert.notEqual(snapshot(db), before); // the retry itself did write
      }),
    );

    it(
      "refuses a { tx } that is not the open transaction",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        let stale: unknown;
        db.transaction((tx) => {
          stale = tx;
        });
        assert.throws(
          () => q.enqueue(1, { tx: stale as never }),
          /the \{ tx \} given is not the transaction open on this database/,
        );
        assert.equal(countRows(db, "_honker_live"), 0);
      }),
    );

    it(
      "db.saveResult() / db.getResult() round-trip JSON, upsert, expire and sweep",
      { skip },
      withDb(entry, (db) => {
        db.saveResult(7, { ok: true });
        assert.deepEqual(db.getResult(7), { ok: true });
        assert.equal(db.getResult(8), undefined);
        db.saveResult(7, "second", { ttlS: 3600 });
        assert.equal(db.getResult(7), "second");
        const row = db.driver.get<{ expires_at: number; value: string }>(
          "SELECT * FROM _honker_results WHERE job_id = 7",
        );
        assert.equal(row?.value, '"second"');
        assert.ok(Math.abs((row?.expires_at ?? 0) - (sqlNow(db) + 3600)) <= 1);
        db.driver.run("UPDATE _honker_results SET expires_at = unixepoch() - 1 WHERE job_id = 7");
        assert.equal(db.getResult(7), undefined);
        assert.equal(countRows(db, "_honker_results"), 1);
        assert.equal(db.sweepResults(), 1);
        assert.equal(db.sweepResults(), 0);
      }),
    );

    it(
      "stats() counts pending, scheduled, processing and dead per queue",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueueMany([1, 2, 3]);
        q.enqueue(4, { delayS: 600 });
        db.queue("other").enqueue(5);
        q.claimOne("w")?.fail("x");
        q.claimOne("w");
        assert.deepEqual(q.stats(), {
          pending: 1,
          scheduled: 1,
          processing: 1,
          dead: 1,
          retrying: 0,
          stalled: 0,
          paused: false,
        });
      }),
    );

    it(
      "deadLetters() pages newest first; requeueDead() revives; purgeDead() deletes",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { maxAttempts: 4 });
        const ids = q.enqueueMany(["a", "b", "c"], { priority: 3 });
        for (const job of q.claimBatch("w", 3)) job.fail(`err ${job.payload}`);
        assert.deepEqual(q.deadLetters().map((d) => d.id), [...ids].reverse());
        assert.deepEqual(q.deadLetters({ limit: 1, before: ids[2] }).map((d) => d.id), [ids[1]]);
        assert.equal(db.queue("other").deadLetters().length, 0);
        const revived = q.requeueDead(ids[0]);
        assert.ok(revived !== null && revived > ids[2]);
        assert.equal(q.requeueDead(ids[0]), null);
        const job = q.claimOne("w");
        assert.equal(job?.payload, "a");
        assert.equal(job?.attempts, 1);
        assert.equal(job?.priority, 3);
        assert.equal(job?.maxAttempts, 4);
        assert.equal(q.purgeDead({ olderThanS: 3600 }), 0);
        assert.equal(q.purgeDead(), 2);
        assert.equal(q.stats().dead, 0);
      }),
    );

    it(
      "a job id of another queue is not this queue's: cancel(), getJob() and ackBatch() leave it alone",
      { skip },
      withDb(entry, (db) => {
        const emails = db.queue<{ to: string }>("emails");
        const invoices = db.queue<{ invoice: number }>("invoices");
        const id = invoices.enqueue({ invoice: 7 });
        assert.equal(emails.getJob(id), null);
        assert.equal(emails.cancel(id), false);
        assert.equal(invoices.getJob(id)?.payload.invoice, 7);
        // One worker id serving both queues, as a process with one id per host would.
        assert.equal(invoices.claimOne("w")?.id, id);
        assert.equal(emails.ackBatch("w", [id]), 0);
        assert.equal(invoices.getJob(id)?.state, "processing");
        assert.equal(invoices.ackBatch("w", [id]), 1);
        const dead = invoices.enqueue({ invoice: 8 });
        invoices.claimOne("w")?.fail("x");
        assert.equal(emails.requeueDead(dead), null);
        assert.equal(invoices.stats().dead, 1);
        // honker's SQL function keeps honker's meaning: any live job, whatever its queue (where
        // the driver can run honker's SQL functions; bun:sqlite cannot).
        if (typeof db.driver.function === "function" && db.driver.reentrantFunctions !== false) {
          const other = invoices.enqueue({ invoice: 9 });
          const sql = "SELECT honker_cancel(?) AS n";
          assert.equal(db.driver.get<{ n: number }>(sql, [other])?.n, 1);
        }
      }),
    );

    it(
      "queue.schema is the schema the queue was opened with, its types kept",
      { skip },
      withDb(entry, (db) => {
        const prices = db.queue("prices", { schema: Euros });
        const schema: StandardSchemaV1<{ cents: number }, number> | undefined = prices.schema;
        assert.equal(schema, Euros);
        prices.enqueue({ cents: 120 });
        const euros: number | undefined = prices.claimOne("w")?.payload;
        assert.equal(euros, 1.2);
      }),
    );

    it(
      "db.getResult() is unknown unless typed; with { schema } it returns the schema's output or throws naming the job",
      { skip },
      withDb(entry, (db) => {
        db.saveResult(1, { cents: 250 });
        db.saveResult(2, { euros: 2.5 });
        const plain = db.getResult(1);
        const unchecked: IsUnknown<typeof plain> = true;
        assert.ok(unchecked);
        assert.deepEqual(plain, { cents: 250 });
        const euros: number | undefined = db.getResult(1, { schema: Euros });
        assert.equal(euros, 2.5);
        assert.equal(db.getResult(3, { schema: Euros }), undefined);
        assert.throws(
          () => db.getResult(2, { schema: Euros }),
          (e: Error) =>
            e instanceof TypeError &&
            e.message ===
              "Cannot get a result: the result of job 2 does not match the schema " +
                "(cents must be a number at $.cents)",
        );
      }),
    );

    it(
      "results are keyed by job id alone: a result saved after its job is gone reads back from any queue",
      { skip },
      withDb(entry, (db) => {
        const invoices = db.queue("invoices");
        const id = invoices.enqueue(1);
        assert.equal(invoices.claimOne("w")?.ack(), true);
        db.saveResult(id, { paid: true });
        // Ids are unique across the file's queues, so no two jobs' results can collide.
        assert.deepEqual(db.getResult(id), { paid: true });
        db.saveResult(db.queue("emails").enqueue(2), "sent");
        // Sweeping sweeps every queue's results: there is no queue to sweep by.
        db.driver.run("UPDATE _honker_results SET expires_at = unixepoch() - 1");
        assert.equal(db.sweepResults(), 2);
      }),
    );

    it(
      "every call after close() throws DatabaseClosedError",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue(1);
        const job = q.claimOne("w");
        db.close();
        db.close();
        for (
          const call of [
            () => q.enqueue(1),
            () => q.claimOne("w"),
            () => job?.ack(),
            () => q.stats(),
            () => db.queue("x"),
            () => db.transaction(() => 1),
          ]
        ) {
          assert.throws(call, DatabaseClosedError);
        }
      }),
    );
  });
}
