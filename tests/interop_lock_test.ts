// Lock and rate-limit interop with honker's real extension (spec §6.1, §6.2): a second
// node:sqlite connection to the same file loads libhonker_ext.so, and each side respects what the
// other wrote. Every driver of the matrix takes the honker-ts side in turn.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { LockHeldError } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { plainAll, removeTempDirs } from "./_helpers.ts";
import { alignTimes, functionsSkip, honkerExtSkip, near, withPair } from "./_honker_ext.ts";
import type { PairBody } from "./_honker_ext.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

// The same SQL text runs on honker's extension and on our SQL functions, one statement per line.
const DIFF_SCRIPT = `SELECT honker_lock_acquire('a', 'o1', 60)
SELECT honker_lock_acquire('a', 'o2', 60)
SELECT honker_lock_acquire('a', 'o1', 120) AS a, (SELECT expires_at FROM _honker_locks) AS b
SELECT honker_lock_renew('a', 'o2', 60) AS a, honker_lock_renew('a', 'o1', 300) AS b
SELECT honker_lock_renew('a', 'o1', 30.0) AS a, (SELECT expires_at FROM _honker_locks) AS b
SELECT honker_lock_acquire('b', 'o1', 0) AS a, honker_lock_acquire('b', 'o2', -5) AS b
SELECT honker_lock_renew('b', 'o1', 5) AS a, honker_lock_renew('b', 'o2', 5) AS b
SELECT honker_lock_release('a', 'o2') AS a, honker_lock_release('a', 'o1') AS b
SELECT honker_lock_release('a', 'o1') AS a
SELECT honker_lock_acquire('', '', 5) AS a, honker_lock_release('', '') AS b
SELECT honker_rate_limit_try('r', 3, 3600) AS a, honker_rate_limit_try('r', 3, 3600) AS b
SELECT honker_rate_limit_try('r', 3, 3600) AS a, honker_rate_limit_try('r', 3, 3600) AS b
SELECT honker_rate_limit_try('r', 5.0, 3600.0) AS a, honker_rate_limit_try('r', 4, 3600) AS b
SELECT honker_rate_limit_try('s', 1, 1000000000000)
SELECT honker_rate_limit_try('', 1, 3600)
SELECT honker_rate_limit_sweep(7200) AS a, honker_rate_limit_sweep(3600) AS b`.split("\n");

// Calls both sides must refuse, with honker's message where honker has one of its own.
const REFUSED: Array<[string, RegExp]> = [
  ["SELECT honker_lock_renew('a', 'o1', 0)", /ttl_s must be positive/],
  ["SELECT honker_lock_renew('a', 'o1', -1)", /ttl_s must be positive/],
  ["SELECT honker_rate_limit_try('r', 0, 60)", /limit and per must be positive/],
  ["SELECT honker_rate_limit_try('r', 1, 0)", /limit and per must be positive/],
  ["SELECT honker_rate_limit_try('r', 1, -60)", /limit and per must be positive/],
  ["SELECT honker_lock_acquire('a', 'o1', 1.5)", /whole number/],
  ["SELECT honker_rate_limit_try('r', 2.5, 60)", /whole number/],
  ["SELECT honker_lock_acquire(1, 'o1', 60)", /./],
  ["SELECT honker_lock_acquire('a', NULL, 60)", /./],
  ["SELECT honker_lock_acquire('a', 'o1', NULL)", /./],
  ["SELECT honker_lock_release(NULL, 'o1')", /./],
  ["SELECT honker_rate_limit_sweep('x')", /./],
  ["SELECT honker_rate_limit_sweep(NULL)", /./],
];

const TABLES = ["_honker_locks", "_honker_rate_limits"];

/** Waits until the current hour has at least 2 s left, so both sides count in one window. */
async function awayFromHourEnd(): Promise<void> {
  const left = 3_600_000 - (Date.now() % 3_600_000);
  if (left < 2000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

for (const entry of driverMatrix()) {
  const skip = EXT_SKIP ?? entry.skip;
  const functionsSkipped = skip ?? await functionsSkip(entry);
  const test = (name: string, body: PairBody, apart = false) =>
    it(name, { skip }, withPair(entry, body, apart));

  describe(`${entry.id} ↔ honker extension: lock and rate-limit interop`, () => {
    test("a lock taken by honker is respected by honker-ts until honker releases it", (db, ext) => {
      assert.equal(ext.call("SELECT honker_lock_acquire('L', 'honker', 60)"), 1);
      assert.equal(db.tryLock("L", { owner: "ts", ttlS: 60 }), null);
      assert.equal(ext.call("SELECT honker_lock_release('L', 'ts')"), 0);
      assert.equal(ext.call("SELECT honker_lock_release('L', 'honker')"), 1);
      const lock = db.tryLock("L", { owner: "ts", ttlS: 60 });
      assert.equal(lock?.owner, "ts");
      near(lock.expiresAt, ext.now() + 60, "expiresAt");
    });

    test("a lock taken by honker-ts is respected by honker until released", (db, ext) => {
      const lock = db.tryLock("L", { owner: "ts", ttlS: 60 })!;
      assert.equal(ext.call("SELECT honker_lock_acquire('L', 'honker', 60)"), 0);
      assert.equal(ext.call("SELECT honker_lock_renew('L', 'honker', 60)"), 0);
      assert.equal(ext.call("SELECT honker_lock_acquire('L', 'ts', 600)"), 1, "same owner");
      assert.equal(ext.call("SELECT expires_at FROM _honker_locks"), lock.expiresAt);
      assert.equal(lock.heartbeat(900), true);
      near(ext.call("SELECT expires_at FROM _honker_locks"), ext.now() + 900, "after heartbeat");
      assert.equal(ext.call("SELECT honker_lock_renew('L', 'ts', 30)"), 1);
      assert.equal(db.tryLock("L", { owner: "someone", ttlS: 60 }), null);
      assert.equal(lock.release(), true);
      assert.equal(ext.call("SELECT honker_lock_acquire('L', 'honker', 60)"), 1);
    });

    test("expired locks are taken over across the two sides", (db, ext) => {
      assert.equal(ext.call("SELECT honker_lock_acquire('a', 'honker', 0)"), 1);
      assert.equal(
        db.tryLock("a", { owner: "ts", ttlS: 60 })?.owner,
        "ts",
        "honker's ttl 0 lock is expired",
      );
      const mine = db.tryLock("b", { owner: "ts", ttlS: 60 })!;
      ext.exec("UPDATE _honker_locks SET expires_at = unixepoch() - 3600 WHERE name = 'b'");
      assert.equal(ext.call("SELECT honker_lock_acquire('b', 'honker', 60)"), 1);
      assert.equal(mine.heartbeat(), false);
      assert.equal(mine.release(), false);
      assert.equal(ext.call("SELECT owner FROM _honker_locks WHERE name = 'b'"), "honker");
    });

    test("withLock() waits for honker's holder and wakes when honker releases", async (db, ext) => {
      ext.call("SELECT honker_lock_acquire('L', 'honker', 60)");
      await assert.rejects(db.withLock("L", () => {}, { waitMs: 0 }), (error) => {
        assert.ok(error instanceof LockHeldError);
        assert.equal(error.holder, "honker");
        return true;
      });
      let releasedAt = 0;
      setTimeout(() => {
        releasedAt = Date.now();
        ext.call("SELECT honker_lock_release('L', 'honker')");
      }, 300);
      const waited = await db.withLock("L", (lock) => {
        assert.equal(ext.call("SELECT owner FROM _honker_locks"), lock.owner);
        return Date.now() - releasedAt;
      });
      assert.ok(releasedAt > 0 && waited < 900, `woke ${waited} ms after honker's release`);
      assert.equal(ext.call("SELECT count(*) FROM _honker_locks"), 0);
    });

    test("rate-limit windows are shared: calls from both sides add up", async (db, ext) => {
      await awayFromHourEnd();
      const theirs = () => ext.call("SELECT honker_rate_limit_try('api', 3, 3600)");
      assert.equal(theirs(), 1);
      assert.equal(db.tryRateLimit("api", { limit: 3, perS: 3600 }), true);
      assert.equal(theirs(), 1);
      assert.equal(db.tryRateLimit("api", { limit: 3, perS: 3600 }), false);
      assert.equal(theirs(), 0);
      const row = ext.rows("SELECT * FROM _honker_rate_limits");
      assert.deepEqual(row, [{
        name: "api",
        window_start: Math.floor(ext.now() / 3600) * 3600,
        count: 3,
      }]);
      assert.equal(db.sweepRateLimits({ olderThanS: 0 }), 1);
      assert.equal(theirs(), 1, "the sweep reset honker's window too");
      assert.equal(ext.call("SELECT honker_rate_limit_sweep(0)"), 1);
      assert.equal(db.tryRateLimit("api", { limit: 1, perS: 3600 }), true);
    });

    it(
      "the same SQL gives the same results on honker's extension and our SQL functions",
      { skip: functionsSkipped },
      withPair(entry, async (_db, ext, driver) => {
        await awayFromHourEnd();
        for (const sql of DIFF_SCRIPT) {
          const theirs = Object.values(ext.rows(sql)[0]);
          assert.deepEqual(alignTimes(Object.values(driver.get(sql) ?? {}), theirs), theirs, sql);
        }
        for (const table of TABLES) {
          const theirs = ext.rows(`SELECT * FROM ${table} ORDER BY 1, 2`);
          const ours = plainAll(driver.all(`SELECT * FROM ${table} ORDER BY 1, 2`));
          assert.deepEqual(alignTimes(ours, theirs), theirs, table);
        }
        for (const [sql, message] of REFUSED) {
          assert.throws(() => ext.call(sql), message, `honker: ${sql}`);
          assert.throws(() => driver.get(sql), message, `honker-ts: ${sql}`);
        }
        for (const table of TABLES) {
          const theirs = ext.rows(`SELECT * FROM ${table} ORDER BY 1, 2`);
          const ours = plainAll(driver.all(`SELECT * FROM ${table} ORDER BY 1, 2`));
          assert.deepEqual(alignTimes(ours, theirs), theirs, `${table} after the refusals`);
        }
      }, true),
    );
  });
}
