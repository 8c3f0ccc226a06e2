// Options in the wrong unit or under the wrong name, as applications write them: BullMQ's
// `{ delay }`, `runAt: Date.now() + …` (milliseconds), a waitForEvents timeout of days. Each is
// refused with a TypeError/RangeError naming the option before anything is written, instead of
// being ignored or read in another unit.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import process from "node:process";
import { fromDriver, open } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import { tempDbPath } from "./_helpers.ts";

/** Milliseconds of CPU this process used while `body` ran. */
async function cpuMsDuring(body: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await body();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: options in the wrong unit or under the wrong name`, () => {
    it(
      "enqueue({ delay: 10 }), BullMQ's name, is refused instead of running the job at once",
      { skip },
      withDb(entry, (db) => {
        const emails = db.queue("emails");
        assert.throws(
          () => emails.enqueue({ to: "a@b.c" }, { delay: 10 } as never),
          (e: Error) =>
            e instanceof TypeError &&
            e.message ===
              'Cannot enqueue to queue "emails": unknown option "delay" (did you mean "delayS"?)',
        );
        assert.throws(() => emails.enqueueMany([1], { delay: 10 } as never), /"delayS"/);
        assert.equal(countRows(db, "_honker_live"), 0);
        emails.enqueue({ to: "a@b.c" }, { delayS: 10 });
        assert.equal(emails.claimOne("w"), null);
      }),
    );

    it(
      "runAt: Date.now() + 60_000 (milliseconds) is refused, not parked until the year 58,897",
      { skip },
      withDb(entry, (db) => {
        const emails = db.queue("emails");
        assert.throws(
          () => emails.enqueue(1, { runAt: Date.now() + 60_000 }),
          (e: Error) =>
            e instanceof RangeError &&
            /^Cannot enqueue to queue "emails": runAt .* looks like milliseconds/.test(e.message),
        );
        assert.equal(countRows(db, "_honker_live"), 0);
        const now = sqlNow(db);
        const inSeconds = emails.enqueue(1, { runAt: now + 60 });
        const asDate = emails.enqueue(2, { runAt: new Date((now + 60) * 1000) });
        assert.equal(emails.getJob(inSeconds)?.runAt, now + 60);
        assert.equal(emails.getJob(asDate)?.runAt, now + 60);
      }),
    );

    it(
      "claim() and work() refuse { idlePollS }, the old name in seconds, naming idlePollMs; a seconds value in idlePollMs is refused",
      { skip },
      withDb(entry, async (db) => {
        const jobs = db.queue("jobs");
        assert.throws(
          () => jobs.claim("w", { idlePollS: 5 } as never),
          (e: Error) =>
            e instanceof TypeError &&
            e.message ===
              'Cannot claim from queue "jobs": unknown option "idlePollS" (did you mean "idlePollMs"?)',
        );
        await assert.rejects(
          jobs.work(() => {}, { idlePollS: null } as never),
          /unknown option "idlePollS" \(did you mean "idlePollMs"\?\)/,
        );
        // 0.05 meant 50 ms under the old name; as milliseconds it would poll in a busy loop.
        assert.throws(
          () => jobs.claim("w", { idlePollMs: 0.05 }),
          (e: Error) =>
            e instanceof RangeError &&
            e.message ===
              'Cannot claim from queue "jobs": idlePollMs must be a positive number or null, ' +
                "got 0.05 (milliseconds, at least 1)",
        );
        await assert.rejects(jobs.work(() => {}, { idlePollMs: 0.05 }), /idlePollMs must be/);
      }),
    );

    it(
      "waitForEvents() timeoutMs is milliseconds: beyond a timer's range it is refused, Infinity waits for the next event",
      { skip, timeout: 30_000 },
      withDb(entry, async (db) => {
        const orders = db.stream("orders");
        // 36 days: taken as seconds it passed, overflowed the timer and spun at full CPU.
        assert.throws(
          () => orders.waitForEvents(0, { limit: 10, timeoutMs: 3_000_000_000 }),
          (e: Error) =>
            e instanceof RangeError && /timeoutMs must be at most 2147483647 ms/.test(e.message),
        );
        assert.throws(
          () => orders.waitForEvents(0, { limit: 10, timeout: 5000 } as never),
          /unknown option "timeout" \(did you mean "timeoutMs"\?\)/,
        );
        const stop = new AbortController();
        const longest = orders.waitForEvents(0, { timeoutMs: 2 ** 31 - 1, signal: stop.signal });
        const cpuMs = await cpuMsDuring(() => new Promise((resolve) => setTimeout(resolve, 500)));
        stop.abort();
        assert.deepEqual(await longest, []);
        // A spinning wait burns the whole 500 ms; a sleeping one next to nothing.
        assert.ok(cpuMs < 250, `the waiting read used ${cpuMs.toFixed(0)} ms of CPU in 500 ms`);
        const forever = orders.waitForEvents(0, { limit: 10, timeoutMs: Infinity });
        setTimeout(() => orders.publish({ id: 1 }), 50);
        assert.deepEqual((await forever).map((e) => e.payload), [{ id: 1 }]);
      }),
    );

    it(
      "subscribe(), listen() and withLock() refuse the old names in seconds, naming the new ones in milliseconds",
      { skip },
      withDb(entry, async (db) => {
        const orders = db.stream("orders");
        const renamed = (old: string, now: string) =>
          new RegExp(`: unknown option "${old}" \\(did you mean "${now}"\\?\\)$`);
        assert.throws(
          () => orders.subscribe("c", { idlePollS: 5 } as never),
          (e: Error) =>
            e instanceof TypeError && renamed("idlePollS", "idlePollMs").test(e.message),
        );
        assert.throws(
          () => orders.subscribe("c", { saveEveryS: 1 } as never),
          (e: Error) =>
            e instanceof TypeError && renamed("saveEveryS", "saveEveryMs").test(e.message),
        );
        assert.throws(
          () => db.listen("c", { idlePollS: null } as never),
          (e: Error) =>
            e instanceof TypeError && renamed("idlePollS", "idlePollMs").test(e.message),
        );
        await assert.rejects(
          db.withLock("l", () => {}, { waitS: 10 } as never),
          (e: Error) => e instanceof TypeError && renamed("waitS", "waitMs").test(e.message),
        );
        // 0.05 meant 50 ms under the old name; as milliseconds it would poll in a busy loop.
        assert.throws(() => orders.subscribe("c", { idlePollMs: 0.05 }), /idlePollMs must be/);
        assert.throws(() => db.listen("c", { idlePollMs: 0.05 }), /idlePollMs must be/);
        // A duration of days in milliseconds is past a timer's range: seconds given as ms.
        await assert.rejects(
          db.withLock("l", () => {}, { waitMs: 3_000_000_000 }),
          /waitMs must be at most 2147483647 ms/,
        );
        assert.throws(
          () => orders.subscribe("c", { saveEveryMs: 3_000_000_000 }),
          /saveEveryMs must be at most 2147483647 ms/,
        );
      }),
    );
  });
}

describe("open() and fromDriver() options", () => {
  it("an unknown option is refused naming it and the closest known one, before any file is created", async () => {
    const path = tempDbPath();
    await assert.rejects(
      () => open(path, { pollInterval: 5 } as never),
      (e: Error) =>
        e instanceof TypeError &&
        e.message ===
          'Cannot open the database: unknown option "pollInterval" (did you mean "pollIntervalMs"?)',
    );
    await assert.rejects(
      () => open(path, { notificationRetention: { keepLast: 10 } } as never),
      /Cannot open the database \(notificationRetention\): unknown option "keepLast"/,
    );
    assert.equal(existsSync(path), false);
    // The driver matrix may be narrowed to drivers that do not run here (DRIVERS).
    const entry = driverMatrix().find((e) => !e.skip);
    const driver = await (entry ? entry.open(path) : openDriver(path));
    try {
      assert.throws(
        () => fromDriver(driver, { busyTimeout: 100 } as never),
        /unknown option "busyTimeout" \(did you mean "busyTimeoutMs"\?\)/,
      );
      assert.throws(() => fromDriver(driver, { driver: "node-sqlite" } as never), /"driver"/);
      const db = fromDriver(driver, {
        busyTimeoutMs: 100,
        sqlFunctions: true,
        wake: "poll",
        pollIntervalMs: 5,
        backstopPollMs: 250,
        idleBackstopPollMs: 1000,
        notificationRetention: { olderThanS: 60, maxKeep: 10 },
      });
      db.close();
    } finally {
      driver.close();
    }
  });
});
