// Fixed-window rate limits (spec §6.2, §9 item 69), on every driver.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Database } from "../mod.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import { driverMatrix } from "./_drivers.ts";
import { plainAll, refusals, removeTempDirs } from "./_helpers.ts";

after(removeTempDirs);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the current `perS` window has at least `marginMs` left, so a test stays in it. */
async function awayFromWindowEnd(perS: number, marginMs = 1500): Promise<void> {
  const left = perS * 1000 - (Date.now() % (perS * 1000));
  if (left < marginMs) await sleep(left + 50);
}

function windows(db: Database): Array<{ name: string; window_start: number; count: number }> {
  return plainAll(
    db.driver.all<{ name: string; window_start: number; count: number }>(
      "SELECT name, window_start, count FROM _honker_rate_limits ORDER BY name, window_start",
    ),
  );
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: rate limits`, () => {
    it(
      "3 per 60 s: three calls pass, then refusals that are not counted",
      { skip },
      withDb(entry, async (db) => {
        await awayFromWindowEnd(60);
        const calls = Array.from(
          { length: 6 },
          () => db.tryRateLimit("api", { limit: 3, perS: 60 }),
        );
        assert.deepEqual(calls, [true, true, true, false, false, false]);
        const windowStart = Math.floor(sqlNow(db) / 60) * 60;
        assert.deepEqual(windows(db), [{ name: "api", window_start: windowStart, count: 3 }]);
      }),
    );

    it(
      "names are independent",
      { skip },
      withDb(entry, async (db) => {
        await awayFromWindowEnd(60);
        assert.equal(db.tryRateLimit("a", { limit: 1, perS: 60 }), true);
        assert.equal(db.tryRateLimit("a", { limit: 1, perS: 60 }), false);
        assert.equal(db.tryRateLimit("b", { limit: 1, perS: 60 }), true);
        assert.deepEqual(windows(db).map((w) => [w.name, w.count]), [["a", 1], ["b", 1]]);
      }),
    );

    it(
      "the limit given on each call is the one applied",
      { skip },
      withDb(entry, async (db) => {
        await awayFromWindowEnd(3600);
        for (let i = 0; i < 3; i++) {
          assert.equal(db.tryRateLimit("api", { limit: 3, perS: 3600 }), true);
        }
        assert.equal(db.tryRateLimit("api", { limit: 3, perS: 3600 }), false);
        assert.equal(db.tryRateLimit("api", { limit: 5, perS: 3600 }), true);
        assert.equal(db.tryRateLimit("api", { limit: 2, perS: 3600 }), false);
        assert.equal(windows(db)[0].count, 4);
      }),
    );

    it(
      "the window starts at (unixepoch() / perS) * perS; each new window gets a new row",
      { skip },
      withDb(entry, (db) => {
        const perS = 2_000_000_000; // longer than the epoch so far: the window starts at 0
        assert.equal(db.tryRateLimit("huge", { limit: 1, perS }), true);
        assert.equal(windows(db)[0].window_start, 0);
        db.tryRateLimit("api", { limit: 1, perS: 3600 });
        db.driver.run("UPDATE _honker_rate_limits SET window_start = window_start - 3600");
        assert.equal(
          db.tryRateLimit("api", { limit: 1, perS: 3600 }),
          true,
          "an old full window does not count",
        );
        assert.deepEqual(windows(db).filter((w) => w.name === "api").map((w) => w.count), [1, 1]);
      }),
    );

    it(
      "perS = 1 resets in the next second",
      { skip },
      withDb(entry, async (db) => {
        await awayFromWindowEnd(1, 600);
        assert.equal(db.tryRateLimit("s", { limit: 1, perS: 1 }), true);
        assert.equal(db.tryRateLimit("s", { limit: 1, perS: 1 }), false);
        await sleep(1000 - (Date.now() % 1000) + 50);
        assert.equal(db.tryRateLimit("s", { limit: 1, perS: 1 }), true);
        assert.equal(countRows(db, "_honker_rate_limits"), 2);
      }),
    );

    it(
      "sweepRateLimits() removes only windows older than olderThanS",
      { skip },
      withDb(entry, (db) => {
        const now = sqlNow(db);
        const insert =
          "INSERT INTO _honker_rate_limits (name, window_start, count) VALUES (?, ?, 1)";
        db.driver.run(insert, ["old", now - 7200]);
        db.driver.run(insert, ["recent", now - 600]);
        db.driver.run(insert, ["now", now + 10]);
        assert.equal(db.sweepRateLimits({ olderThanS: 3600 }), 1);
        assert.equal(db.sweepRateLimits({ olderThanS: 3600 }), 0);
        assert.deepEqual(windows(db).map((w) => w.name), ["now", "recent"]);
        assert.equal(
          db.sweepRateLimits({ olderThanS: 0 }),
          1,
          "0 sweeps every window that started before now",
        );
        assert.deepEqual(windows(db).map((w) => w.name), ["now"]);
      }),
    );

    it(
      "refuses bad arguments with clear errors, writing nothing",
      { skip },
      withDb(entry, (db) => {
        const bad = refusals(db.tryRateLimit.bind(db));
        const w = (limit: unknown, perS: unknown) => ({ limit, perS });
        bad(["", w(3, 60)], TypeError, /^Cannot check rate limit "": the rate limit name must not/);
        bad([null, w(3, 60)], TypeError, /the rate limit name must be a string, got null/);
        bad(
          ["api", w(0, 60)],
          RangeError,
          /^Cannot check rate limit "api": limit must be at least 1/,
        );
        bad(["api", w(-1, 60)], RangeError, /limit must be at least 1, got -1/);
        bad(
          ["api", w(3, 0)],
          RangeError,
          /^Cannot check rate limit "api": perS must be at least 1/,
        );
        bad(["api", w(3, -60)], RangeError, /perS must be at least 1, got -60/);
        bad(["api", w(2.5, 60)], TypeError, /limit must be an integer, got 2.5/);
        bad(["api", w(3, 0.5)], TypeError, /perS must be an integer, got 0.5/);
        bad(["api", w(3, "60")], TypeError, /perS must be an integer, got "60"/);
        bad(["api", w(NaN, 60)], TypeError, /limit must be an integer, got NaN/);
        bad(["api", { perS: 60 }], TypeError, /limit must be an integer, got undefined/);
        bad(["api", { limit: 3 }], TypeError, /perS must be an integer, got undefined/);
        // The positional form of before the options object, and a unit-less key.
        bad(
          ["api", 3, 60],
          TypeError,
          /^Cannot check rate limit "api": options must be an object, got 3$/,
        );
        bad(
          ["api", { limit: 3, per: 60 }],
          TypeError,
          /unknown option "per" \(did you mean "perS"\?\)/,
        );
        assert.equal(countRows(db, "_honker_rate_limits"), 0);
        db.tryRateLimit("api", { limit: 1, perS: 3600 });
        const sweep = db.sweepRateLimits.bind(db) as (...a: unknown[]) => unknown;
        const older = (olderThanS: unknown) => sweep({ olderThanS });
        assert.throws(() => older(-1), /^RangeError: Cannot sweep rate limits: olderThanS must/);
        assert.throws(() => older(1.5), /^RangeError: .*olderThanS must be whole seconds/);
        assert.throws(
          () => sweep({}),
          /^TypeError: .*olderThanS must be a finite number, got undefined/,
        );
        assert.throws(
          () => sweep(),
          /^TypeError: .*olderThanS must be a finite number, got undefined/,
        );
        assert.throws(() => sweep(3600), /^TypeError: .*options must be an object, got 3600/);
        assert.equal(countRows(db, "_honker_rate_limits"), 1);
      }),
    );

    it(
      "throws DatabaseClosedError after close()",
      { skip },
      withDb(entry, (db) => {
        db.close();
        assert.throws(() => db.tryRateLimit("api", { limit: 1, perS: 60 }), {
          name: "DatabaseClosedError",
        });
        assert.throws(() => db.sweepRateLimits({ olderThanS: 60 }), {
          name: "DatabaseClosedError",
        });
      }),
    );
  });
}
