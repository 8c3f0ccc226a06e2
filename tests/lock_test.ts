// Named locks (spec §6.1, §9 items 66–68) and withLock(), on every driver.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, LockHeldError } from "../mod.ts";
import type { Database, Lock } from "../mod.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import type { DbTest } from "./_db.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { asyncRefusals, refusals, removeTempDirs } from "./_helpers.ts";

after(removeTempDirs);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The `_honker_locks` row of `name`, as stored. */
function lockRow(db: Database, name: string): { owner: string; expires_at: number } | undefined {
  const row = db.driver.get<{ owner: string; expires_at: number }>(
    "SELECT owner, expires_at FROM _honker_locks WHERE name = ?",
    [name],
  );
  return row && { owner: row.owner, expires_at: row.expires_at };
}

/** Like withDb, plus a second Database on its own connection to the same file. */
function withTwo(
  entry: DriverEntry,
  body: (db: Database, other: Database) => Promise<void>,
): () => Promise<void> {
  const test: DbTest = async (db, path) => {
    const driver = await entry.open(path);
    const other = fromDriver(driver);
    try {
      await body(db, other);
    } finally {
      other.close();
      driver.close();
    }
  };
  return withDb(entry, test);
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: tryLock()`, () => {
    it(
      "without options takes the lock for a random owner for 60 s, as withLock() does",
      { skip },
      withDb(entry, (db) => {
        const lock = db.tryLock("L")!;
        assert.match(lock.owner, /^[0-9a-f-]{36}$/);
        assert.equal(lock.ttlS, 60);
        const left = lockRow(db, "L")!.expires_at - sqlNow(db);
        assert.ok(left >= 59 && left <= 60, `expires in ${left} s`);
        assert.equal(db.tryLock("L"), null, "each call is a new owner");
        assert.equal(db.tryLock("L", { ttlS: 5 }), null);
        assert.equal(db.tryLock("L", { owner: lock.owner })?.owner, lock.owner);
        assert.equal(lock.release(), true);
      }),
    );

    it(
      "refuses a second owner; release() is true, then false; then another owner takes it",
      { skip },
      withDb(entry, (db) => {
        const lock = db.tryLock("L", { owner: "a", ttlS: 60 });
        assert.ok(lock);
        assert.deepEqual([lock.name, lock.owner, lock.ttlS, lock.released], ["L", "a", 60, false]);
        assert.ok(Math.abs(lock.expiresAt - (sqlNow(db) + 60)) <= 1);
        assert.deepEqual(lockRow(db, "L"), { owner: "a", expires_at: lock.expiresAt });
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 }), null);
        assert.equal(lock.release(), true);
        assert.equal(lock.released, true);
        assert.equal(lock.release(), false);
        assert.equal(lock.heartbeat(), false);
        assert.equal(countRows(db, "_honker_locks"), 0);
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 })?.owner, "b");
        assert.equal(
          db.tryLock("other", { owner: "a", ttlS: 60 })?.owner,
          "a",
          "names are independent",
        );
      }),
    );

    it(
      "taking a lock again as its owner succeeds without extending it",
      { skip },
      withDb(entry, (db) => {
        const first = db.tryLock("L", { owner: "a", ttlS: 30 });
        const again = db.tryLock("L", { owner: "a", ttlS: 3600 });
        assert.ok(first && again);
        assert.equal(again.expiresAt, first.expiresAt);
        assert.equal(lockRow(db, "L")?.expires_at, first.expiresAt);
      }),
    );

    it(
      "heartbeat() extends expires_at and keeps others out; another owner cannot renew",
      { skip },
      withDb(entry, (db) => {
        const lock = db.tryLock("L", { owner: "a", ttlS: 10 })!;
        assert.equal(lock.heartbeat(600), true);
        assert.ok(Math.abs(lock.expiresAt - (sqlNow(db) + 600)) <= 1);
        assert.equal(lockRow(db, "L")?.expires_at, lock.expiresAt);
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 }), null);
        assert.equal(lock.heartbeat(), true, "defaults to the ttlS it was taken with");
        assert.ok(Math.abs(lock.expiresAt - (sqlNow(db) + 10)) <= 1);
        db.driver.run("UPDATE _honker_locks SET owner = 'b'");
        assert.equal(lock.heartbeat(), false);
        assert.equal(lock.release(), false, "release is owner-checked");
        assert.equal(lockRow(db, "L")?.owner, "b");
      }),
    );

    it(
      "a stale lock (expires_at = now - 3600) is taken over; the old owner is refused",
      { skip },
      withDb(entry, (db) => {
        const old = db.tryLock("L", { owner: "a", ttlS: 60 })!;
        db.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() - 3600");
        const taken = db.tryLock("L", { owner: "b", ttlS: 60 });
        assert.equal(taken?.owner, "b");
        assert.ok(Math.abs(taken.expiresAt - (sqlNow(db) + 60)) <= 1);
        assert.equal(old.heartbeat(), false);
        assert.equal(old.release(), false);
        assert.equal(lockRow(db, "L")?.owner, "b");
      }),
    );

    it(
      "expires_at = now counts as expired, as honker's `expires_at <= unixepoch()`",
      { skip },
      withDb(entry, (db) => {
        db.tryLock("L", { owner: "a", ttlS: 60 });
        db.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() + 5");
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 }), null);
        db.driver.run("UPDATE _honker_locks SET expires_at = unixepoch()");
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 })?.owner, "b");
      }),
    );

    it(
      "heartbeat() revives an expired lock nobody has taken, as honker's renew does",
      { skip },
      withDb(entry, (db) => {
        const lock = db.tryLock("L", { owner: "a", ttlS: 60 })!;
        db.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() - 1");
        assert.equal(lock.heartbeat(60), true);
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 }), null);
      }),
    );

    it(
      "a 1 s TTL lapses in real time: another owner takes over, the old heartbeat is refused",
      { skip },
      withDb(entry, async (db) => {
        const lock = db.tryLock("L", { owner: "a", ttlS: 1 })!;
        await sleep(1100);
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 })?.owner, "b");
        assert.equal(lock.heartbeat(), false);
      }),
    );

    it(
      "Symbol.dispose (the end of a using block) releases the lock once",
      { skip },
      withDb(entry, (db) => {
        // Node 22 cannot parse `using`, so call what a using block calls.
        const lock = db.tryLock("L", { owner: "a", ttlS: 60 })!;
        assert.equal(db.tryLock("L", { owner: "b", ttlS: 60 }), null);
        lock[Symbol.dispose]();
        assert.equal(lock.released, true);
        assert.equal(countRows(db, "_honker_locks"), 0);
        const next = db.tryLock("L", { owner: "b", ttlS: 60 })!;
        lock[Symbol.dispose]();
        assert.equal(lockRow(db, "L")?.owner, "b");
        next[Symbol.dispose]();
        assert.equal(countRows(db, "_honker_locks"), 0);
      }),
    );

    it(
      "refuses bad arguments with clear errors, writing nothing",
      { skip },
      withDb(entry, (db) => {
        const bad = refusals(db.tryLock.bind(db));
        const a = (ttlS: unknown) => ({ owner: "a", ttlS });
        bad(["", a(60)], TypeError, /^Cannot take lock "": the lock name must not be empty$/);
        bad([7, a(60)], TypeError, /the lock name must be a string, got 7/);
        bad(["L", { owner: "" }], TypeError, /^Cannot take lock "L": owner must not be empty$/);
        bad(["L", { owner: 7 }], TypeError, /owner must be a string, got 7/);
        bad(["L", a(0)], RangeError, /^Cannot take lock "L": ttlS must be at least 1, got 0$/);
        bad(["L", a(-5)], RangeError, /ttlS must be at least 1, got -5/);
        bad(["L", a(1.5)], TypeError, /ttlS must be an integer, got 1.5/);
        bad(["L", a("60")], TypeError, /ttlS must be an integer, got "60"/);
        bad(["L", a(Infinity)], TypeError, /ttlS must be an integer/);
        // The positional form of before the options object, and a unit-less or old key.
        bad(
          ["L", "a", 60],
          TypeError,
          /^Cannot take lock "L": options must be an object, got "a"$/,
        );
        bad(["L", { ttl: 60 }], TypeError, /unknown option "ttl" \(did you mean "ttlS"\?\)/);
        assert.equal(countRows(db, "_honker_locks"), 0);
        const lock = db.tryLock("L", { owner: "a", ttlS: 60 })!;
        const before = lockRow(db, "L");
        assert.throws(() => lock.heartbeat(0), /^RangeError: Cannot renew lock "L": ttlS must/);
        assert.throws(() => lock.heartbeat(2.5), TypeError);
        assert.deepEqual(lockRow(db, "L"), before);
      }),
    );

    it(
      "throws DatabaseClosedError after close()",
      { skip },
      withDb(entry, (db) => {
        const lock = db.tryLock("L", { owner: "a", ttlS: 60 })!;
        db.close();
        assert.throws(() => db.tryLock("M", { owner: "a", ttlS: 60 }), {
          name: "DatabaseClosedError",
        });
        assert.throws(() => lock.release(), /^DatabaseClosedError: Cannot release lock "L"/);
      }),
    );
  });

  describe(`${entry.id}: withLock()`, () => {
    it(
      "runs the callback holding the lock, releases it after, resolves with its result",
      { skip },
      withDb(entry, async (db) => {
        const result = await db.withLock("L", async (lock, { signal }) => {
          assert.equal(lockRow(db, "L")?.owner, lock.owner);
          assert.match(lock.owner, /^[0-9a-f-]{36}$/);
          assert.equal(lock.ttlS, 60);
          assert.equal(db.tryLock("L", { owner: "someone", ttlS: 60 }), null);
          await sleep(5);
          assert.equal(signal.aborted, false);
          return 42;
        });
        assert.equal(result, 42);
        assert.equal(countRows(db, "_honker_locks"), 0);
        assert.equal(await db.withLock("L", () => "sync", { owner: "me", ttlS: 5 }), "sync");
      }),
    );

    it(
      "releases the lock when the callback throws, and rejects with its error",
      { skip },
      withDb(entry, async (db) => {
        await assert.rejects(
          db.withLock("L", async () => {
            await sleep(1);
            throw new Error("boom");
          }),
          /^Error: boom$/,
        );
        assert.equal(countRows(db, "_honker_locks"), 0);
      }),
    );

    it(
      "waits for a holder on another connection and wakes well under 1 s after its release",
      { skip },
      withTwo(entry, async (db, other) => {
        const held = other.tryLock("L", { owner: "holder", ttlS: 60 })!;
        let releasedAt = 0;
        setTimeout(() => {
          releasedAt = Date.now();
          held.release();
        }, 300);
        const waited = await db.withLock("L", (lock) => {
          assert.equal(lockRow(db, "L")?.owner, lock.owner);
          return Date.now() - releasedAt;
        }, { owner: "waiter" });
        assert.ok(releasedAt > 0, "ran only after the release");
        assert.ok(waited < 900, `woke ${waited} ms after the release`);
      }),
    );

    it(
      "waits for a holder on the same Database and wakes at once on its release",
      { skip },
      withDb(entry, async (db) => {
        const held = db.tryLock("L", { owner: "holder", ttlS: 60 })!;
        setTimeout(() => held.release(), 100);
        const started = Date.now();
        await db.withLock("L", () => {}, { owner: "waiter" });
        assert.ok(Date.now() - started < 900);
      }),
    );

    it(
      "takes the lock over when the holder lets it lapse without releasing",
      { skip },
      withTwo(entry, async (db, other) => {
        other.tryLock("L", { owner: "crashed", ttlS: 1 });
        const started = Date.now();
        const owner = await db.withLock("L", (lock) => lock.owner, { owner: "waiter" });
        assert.equal(owner, "waiter");
        assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      }),
    );

    it(
      "rejects with LockHeldError when waitMs runs out, naming the holder",
      { skip },
      withTwo(entry, async (db, other) => {
        other.tryLock("L", { owner: "holder", ttlS: 60 });
        let ran = false;
        const started = Date.now();
        await assert.rejects(
          db.withLock("L", () => (ran = true), { waitMs: 300 }),
          (error: unknown) => {
            assert.ok(error instanceof LockHeldError);
            assert.equal(error.name, "LockHeldError");
            assert.deepEqual([error.lockName, error.holder, error.waitMs], ["L", "holder", 300]);
            assert.equal(
              error.message,
              'Cannot take lock "L": it is still held by "holder" after waiting 300 ms',
            );
            return true;
          },
        );
        const waited = Date.now() - started;
        assert.ok(waited >= 250 && waited < 3000, `waited ${waited} ms`);
        await assert.rejects(db.withLock("L", () => (ran = true), { waitMs: 0 }), LockHeldError);
        assert.equal(ran, false);
        assert.equal(lockRow(db, "L")?.owner, "holder");
      }),
    );

    it(
      "rejects with the signal's reason on abort, without running the callback",
      { skip },
      withDb(entry, async (db) => {
        db.tryLock("L", { owner: "holder", ttlS: 60 });
        let ran = false;
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const started = Date.now();
        await assert.rejects(
          db.withLock("L", () => (ran = true), { signal: controller.signal }),
          { name: "AbortError" },
        );
        assert.ok(Date.now() - started < 2000);
        const reason = new Error("shutting down");
        await assert.rejects(
          db.withLock("free", () => (ran = true), { signal: AbortSignal.abort(reason) }),
          (error) => error === reason,
        );
        assert.equal(ran, false);
        assert.equal(countRows(db, "_honker_locks"), 1);
      }),
    );

    it(
      "renews the lock while a long callback runs",
      { skip, timeout: 30_000 },
      withTwo(entry, async (db, other) => {
        let first = 0;
        await db.withLock("L", async (lock, { signal }) => {
          first = lock.expiresAt;
          for (let i = 0; i < 6; i++) {
            await sleep(450);
            assert.equal(
              other.tryLock("L", { owner: "intruder", ttlS: 60 }),
              null,
              `after ${(i + 1) * 450} ms`,
            );
          }
          assert.ok(lock.expiresAt > first, "expires_at moved on");
          assert.equal(lockRow(other, "L")?.expires_at, lock.expiresAt);
          assert.equal(signal.aborted, false);
        }, { ttlS: 2 });
        assert.ok(first > 0);
        assert.equal(countRows(db, "_honker_locks"), 0);
      }),
    );

    it(
      "aborts the callback's signal when a renewal is refused (the lock was lost)",
      { skip },
      withDb(entry, async (db) => {
        let lost: unknown;
        await db.withLock("L", async (lock: Lock, { signal }) => {
          db.driver.run("UPDATE _honker_locks SET owner = 'thief'");
          await new Promise((resolve) => signal.addEventListener("abort", resolve));
          lost = signal.reason;
          assert.equal(lock.released, false);
        }, { ttlS: 1, owner: "me" });
        assert.match(String(lost), /^Error: Cannot renew lock "L": owner "me" no longer holds it$/);
        assert.equal(lockRow(db, "L")?.owner, "thief", "the thief's lock is left alone");
      }),
    );

    it(
      "refuses bad arguments with clear errors, writing nothing",
      { skip },
      withDb(entry, async (db) => {
        const fn = () => {};
        const bad = asyncRefusals(db.withLock.bind(db));
        await bad(["", fn], TypeError, /^Cannot take lock "": the lock name must not be empty$/);
        await bad(["L", "nope"], TypeError, /the callback must be a function/);
        await bad(["L", fn, 5], TypeError, /options must be an object/);
        await bad(["L", fn, { owner: "" }], TypeError, /owner must not be empty/);
        await bad(["L", fn, { ttlS: 0 }], RangeError, /ttlS must be at least 1, got 0/);
        await bad(["L", fn, { ttlS: 0.5 }], TypeError, /ttlS must be an integer, got 0.5/);
        await bad(["L", fn, { waitMs: -1 }], RangeError, /waitMs must be a non-negative number/);
        await bad(["L", fn, { waitMs: NaN }], RangeError, /waitMs must be a non-negative number/);
        await bad(
          ["L", fn, { waitMs: "1" }],
          TypeError,
          /waitMs must be a non-negative number of milliseconds/,
        );
        // 36 days: seconds or a date passed as milliseconds would overflow the timer.
        await bad(
          ["L", fn, { waitMs: 3_000_000_000 }],
          RangeError,
          /waitMs must be at most 2147483647 ms/,
        );
        // The old name in seconds is refused, naming the new one.
        await bad(
          ["L", fn, { waitS: 10 }],
          TypeError,
          /unknown option "waitS" \(did you mean "waitMs"\?\)/,
        );
        assert.equal(countRows(db, "_honker_locks"), 0);
      }),
    );
  });
}
