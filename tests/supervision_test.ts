// Background loops under the failures applications meet: another connection holding the write
// lock, an onError that throws, an error of the loop itself, a claim in its last second.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import type { Database, SqliteDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { countRows } from "./_db.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";

/** A short busy timeout for the application's own calls, so a failure shows in milliseconds. */
const SHORT_BUSY_MS = 100;

/** A Database on a fresh file plus a second raw connection to the same file. */
async function twoConnections(
  entry: DriverEntry,
  body: (db: Database, other: SqliteDriver) => Promise<void>,
): Promise<void> {
  const path = tempDbPath();
  const driver = await entry.open(path);
  const db = fromDriver(driver, { busyTimeoutMs: SHORT_BUSY_MS });
  driver.exec(`PRAGMA busy_timeout = ${SHORT_BUSY_MS}`);
  const other = await entry.open(path);
  other.exec("PRAGMA busy_timeout = 0");
  try {
    await body(db, other);
  } finally {
    db.close();
    driver.close();
    other.close();
  }
}

/** Holds the write lock on `other` for `ms`, without blocking this event loop. */
async function holdWriteLock(other: SqliteDriver, ms: number): Promise<void> {
  other.exec("BEGIN IMMEDIATE");
  try {
    await sleep(ms);
  } finally {
    other.exec("COMMIT");
  }
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: loops under failure`, () => {
    it(
      "a heartbeat that meets a busy database is retried and the claim is kept",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db, other) => {
          const q = db.queue<number>("jobs", { visibilityTimeoutS: 3 });
          q.enqueue(1);
          let started = false;
          const stop = new AbortController();
          const done = q.work(async () => {
            started = true;
            await sleep(4500);
          }, { signal: stop.signal });
          await eventually(() => started, 5000, "the handler");
          let rivalGotIt = false;
          const rival = setInterval(() => {
            if (q.claimOne("rival")) rivalGotIt = true;
          }, 100);
          try {
            await sleep(800);
            // Busy across the first heartbeat (due 1 s after the claim).
            await holdWriteLock(other, 1500);
            await eventually(() => countRows(db, "_honker_live") === 0, 8000, "the ack");
          } finally {
            clearInterval(rival);
          }
          stop.abort();
          assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
          assert.equal(rivalGotIt, false, "the claim lapsed and another worker took the job");
        }),
    );

    it(
      "work() claims through a busy database instead of rejecting",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db, other) => {
          const q = db.queue<number>("jobs");
          q.enqueueMany([1, 2, 3]);
          const stop = new AbortController();
          const handled: number[] = [];
          other.exec("BEGIN IMMEDIATE");
          const done = q.work((job) => {
            handled.push(job.payload);
          }, { signal: stop.signal, idlePollMs: 50 });
          let settled = false;
          done.then(() => (settled = true), () => (settled = true));
          await sleep(6 * SHORT_BUSY_MS);
          other.exec("COMMIT");
          assert.equal(settled, false, "work() ended while the database was busy");
          await eventually(() => handled.length === 3, 5000, "the three jobs");
          stop.abort();
          assert.deepEqual(await done, { acked: 3, retried: 0, dead: 0, lost: 0 });
        }),
    );

    it(
      "claim(), listen(), subscribe() and withLock() wait through a busy database",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db, other) => {
          const stop = new AbortController();
          const jobs = db.queue<number>("jobs").claim("w", {
            signal: stop.signal,
            idlePollMs: 50,
          });
          const events = db.stream<number>("t").subscribe("c", {
            signal: stop.signal,
            saveEveryN: 1,
            idlePollMs: 50,
          });
          const notes = db.listen<number>("ch", { signal: stop.signal, idlePollMs: 50 });
          db.stream<number>("t").publish(1);
          assert.equal((await events.next()).value?.payload, 1);
          const nextJob = jobs.next();
          const nextNote = notes.next();
          const nextEvent = events.next(); // saves event 1 while the database is busy
          other.exec("BEGIN IMMEDIATE");
          other.run("INSERT INTO _honker_live (queue, payload) VALUES ('jobs', '7')");
          const locked = db.withLock("l", () => "held", { waitMs: 10_000 });
          await sleep(6 * SHORT_BUSY_MS);
          other.exec("COMMIT");
          assert.equal((await nextJob).value?.payload, 7);
          assert.equal(await locked, "held");
          db.notify("ch", 5);
          assert.equal((await nextNote).value?.payload, 5);
          db.stream<number>("t").publish(2);
          assert.equal((await nextEvent).value?.payload, 2);
          stop.abort();
        }),
    );

    it(
      "scheduler.run() keeps leading through a database busy for longer than the busy timeout",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db, other) => {
          const scheduler = db.scheduler();
          scheduler.add({ name: "tick", queue: "ticks", schedule: "@every 1s" });
          const stop = new AbortController();
          let ended = false;
          const running = scheduler.run({ signal: stop.signal, leaseS: 3 }).finally(() =>
            ended = true
          );
          const fires = () => countRows(db, "_honker_live", "queue = 'ticks'");
          await eventually(() => fires() >= 1, 5000, "the first fire");
          // Busy across boundaries and a lease renewal (every second with a 3 s lease).
          const beforeLock = fires();
          await holdWriteLock(other, 1500);
          assert.equal(ended, false, "run() ended while the database was busy");
          // The boundaries that fell due while the database was busy are caught up, and it
          // goes on firing.
          await eventually(() => fires() >= beforeLock + 2, 5000, "the fires after the lock");
          stop.abort();
          await running;
        }),
    );

    it(
      "opening a file honours busyTimeoutMs from its first statement while another connection holds the write lock",
      { skip, timeout: 20_000 },
      async () => {
        const path = tempDbPath();
        const first = await entry.open(path);
        fromDriver(first).close(); // the file exists, with honker's schema
        first.exec("BEGIN IMMEDIATE");
        try {
          const driver = await entry.open(path);
          const started = Date.now();
          try {
            assert.throws(
              () => fromDriver(driver, { busyTimeoutMs: 100 }),
              (error: Error & { code?: string }) => error.code === "SQLITE_BUSY",
            );
          } finally {
            driver.close();
          }
          assert.ok(Date.now() - started < 1500, `waited ${Date.now() - started} ms, not 100`);
        } finally {
          if (first.inTransaction()) first.exec("COMMIT");
          first.close();
        }
      },
    );

    it(
      "an onError that throws is reported, and work() goes on",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db) => {
          const q = db.queue<number>("jobs");
          q.enqueueMany([1, 2, 3]);
          const stop = new AbortController();
          const seen: number[] = [];
          const originalError = console.error;
          const reported: unknown[] = [];
          console.error = (...args: unknown[]) => void reported.push(args);
          try {
            const done = q.work((job) => {
              seen.push(job.payload);
              if (job.payload === 1) throw new Error("handler failed");
            }, {
              signal: stop.signal,
              retryDelayS: 3600,
              onError: () => {
                throw new Error("onError failed too");
              },
            });
            await eventually(() => seen.length === 3, 5000, "all three jobs");
            stop.abort();
            assert.deepEqual(await done, { acked: 2, retried: 1, dead: 0, lost: 0 });
          } finally {
            console.error = originalError;
          }
          assert.equal(reported.length, 1);
          assert.match(String((reported[0] as unknown[])[1]), /onError failed too/);
        }),
    );

    it(
      "an error of work() itself stops claiming and gives the job in hand back before work() rejects",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db) => {
          const q = db.queue<string>("jobs", { visibilityTimeoutS: 600 });
          // The application's own trigger makes every ack fail: not a busy database, so fatal.
          db.driver.exec(`CREATE TRIGGER refuse_acks BEFORE DELETE ON _honker_live
            BEGIN SELECT RAISE(ABORT, 'acks are refused'); END`);
          q.enqueueMany(["fast", "slow"]);
          let slowSignal: AbortSignal | undefined;
          const done = q.work(async (job, { signal }) => {
            if (job.payload === "slow") {
              slowSignal = signal;
              await sleep(400);
            }
          }, { concurrency: 2 });
          await assert.rejects(done, /acks are refused/);
          assert.equal(slowSignal?.aborted, true, "the slow handler was told to stop");
          // The slow job is claimable again at once, not after its 600 s visibility timeout.
          const row = db.driver.get<{ expired: number }>(
            `SELECT claim_expires_at < unixepoch() AS expired FROM _honker_live
             WHERE payload = '"slow"'`,
          );
          assert.equal(row?.expired, 1);
          // And nothing claims after work() rejected.
          q.enqueue("later");
          await sleep(300);
          assert.equal(
            countRows(db, "_honker_live", `payload = '"later"' AND state = 'pending'`),
            1,
          );
        }),
    );

    it(
      "work() keeps a one-second claim alive through a handler that blocks the event loop",
      { skip, timeout: 20_000 },
      () =>
        twoConnections(entry, async (db) => {
          const q = db.queue<number>("jobs", { visibilityTimeoutS: 1 });
          // Claim late in a second, when a 1 s claim (stored as whole seconds) lasts the least:
          // claimed at x.95 it expires at x+1 and can be renewed until x+2.0, 1.05 s later.
          while (Date.now() % 1000 < 950 || Date.now() % 1000 > 970) await sleep(1);
          q.enqueue(1);
          let rivalGotIt = false;
          const rival = setInterval(() => {
            if (q.claimOne("rival")) rivalGotIt = true;
          }, 50);
          const stop = new AbortController();
          try {
            const done = q.work(async () => {
              // Synchronous work across the moment a once-a-second heartbeat would be due.
              await sleep(950);
              const until = performance.now() + 200;
              while (performance.now() < until) { /* busy */ }
              await sleep(1500);
            }, { signal: stop.signal });
            await eventually(() => countRows(db, "_honker_live") === 0, 8000, "the ack");
            stop.abort();
            assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
          } finally {
            clearInterval(rival);
          }
          assert.equal(rivalGotIt, false, "another worker took the job while it was running");
        }),
    );
  });
}
