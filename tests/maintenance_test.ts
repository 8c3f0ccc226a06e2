// Retention and the maintenance task (issue #15, item 10): every honker table that only grows
// gets a default retention, applied by one maintenance task per file (elected through
// `_honker_locks`), in small batches, with honker-ts's short background busy timeout; and
// stream.removeConsumer() frees trims held back by an abandoned consumer. Time is driven by
// writing old timestamps into rows, never by sleeping through a retention period.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { fromDriver, open } from "../mod.ts";
import type { Database, DatabaseOptions } from "../mod.ts";
import type { SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { countRows, sqlNow } from "./_db.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { collect, exitedWithin, LineReader, spawnScript } from "./_spawn.ts";

after(removeTempDirs);

const PEER = fileURLToPath(new URL("./fixtures/maintenance_peer.ts", import.meta.url));
const DAY = 86_400;
const LOCK = "honker-ts:maintenance";
const SLOW = { timeout: 60_000 };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Opens `path` with the entry's driver and `options`; `close()` closes both. */
async function openWith(
  entry: DriverEntry,
  path: string,
  options: DatabaseOptions,
): Promise<Database & { closeAll(): void }> {
  const driver = await entry.open(path);
  const db = fromDriver(driver, options);
  return Object.assign(db, {
    closeAll() {
      db.close();
      driver.close();
    },
  });
}

/** Starts one wait, the way a worker or a subscriber would; returns what ends it. */
function startWaiting(db: Database): () => Promise<void> {
  const stop = new AbortController();
  const waiting = db.updates({ signal: stop.signal }).next();
  return async () => {
    stop.abort();
    await waiting;
  };
}

/** Polls `check` every 50 ms until it holds, or fails with `what` after `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Ages, in seconds before now, of the rows one table gets: one to go, one to keep. */
interface Ages {
  deadS: [old: number, young: number];
  notificationsS: [old: number, young: number];
  rateLimitsS: [old: number, young: number];
}

/**
 * Writes, per table, a row old enough to go and a row young enough to stay, plus rows that no
 * retention may touch: a live job and a stream event from last year, a consumer.
 */
function seed(db: Database, ages: Ages): void {
  const run = (sql: string, params: number[] = []) => db.driver.run(sql, params);
  run(`INSERT INTO _honker_results (job_id, value, expires_at) VALUES
    (1, '"expired"', unixepoch() - 1), (2, '"live"', unixepoch() + 3600), (3, '"forever"', NULL)`);
  run(
    `INSERT INTO _honker_dead (id, queue, payload, died_at) VALUES
      (1, 'q', '"old"', unixepoch() - ?), (2, 'q', '"young"', unixepoch() - ?)`,
    ages.deadS,
  );
  run(
    `INSERT INTO _honker_notifications (channel, payload, created_at) VALUES
      ('c', '"old"', unixepoch() - ?), ('c', '"young"', unixepoch() - ?)`,
    ages.notificationsS,
  );
  // "busy" has a newer window, so its older one is past whatever its age; "idle-*" have one.
  run(
    `INSERT INTO _honker_rate_limits (name, window_start, count) VALUES
      ('idle-old', unixepoch() - ?, 1), ('idle-young', unixepoch() - ?, 1),
      ('busy', unixepoch() - 20, 5), ('busy', unixepoch() - 10, 5)`,
    ages.rateLimitsS,
  );
  run(`INSERT INTO _honker_live (queue, payload, run_at, created_at)
    VALUES ('q', '"live"', unixepoch() - 400 * 86400, unixepoch() - 400 * 86400)`);
  run(`INSERT INTO _honker_stream (topic, payload, created_at)
    VALUES ('t', '"event"', unixepoch() - 400 * 86400)`);
  run("INSERT INTO _honker_stream_consumers (name, topic, offset) VALUES ('reader', 't', 0)");
}

/** What is left of the seeded rows, table by table. */
function left(db: Database) {
  const column = (sql: string) => db.driver.all<{ v: SqlValue }>(sql).map((row) => row.v);
  return {
    results: column("SELECT job_id AS v FROM _honker_results ORDER BY job_id"),
    dead: column("SELECT payload AS v FROM _honker_dead ORDER BY id"),
    notifications: column("SELECT payload AS v FROM _honker_notifications ORDER BY id"),
    rateLimits: column(
      "SELECT name || '@' || (unixepoch() - window_start >= 20) AS v FROM _honker_rate_limits " +
        "ORDER BY name, window_start",
    ),
    untouched: countRows(db, "_honker_live") + countRows(db, "_honker_stream") +
      countRows(db, "_honker_stream_consumers"),
  };
}

/** Waits until what is left of the seeded rows is `expected` (a round ends with its last table). */
async function untilLeft(db: Database, expected: ReturnType<typeof left>, what: string) {
  await until(() => JSON.stringify(left(db)) === JSON.stringify(expected), what);
  assert.deepEqual(left(db), expected);
}

const SEEDED = {
  results: [1, 2, 3],
  dead: ['"old"', '"young"'],
  notifications: ['"old"', '"young"'],
  rateLimits: ["busy@1", "busy@0", "idle-old@1", "idle-young@1"],
  untouched: 3,
};
const TRIMMED = {
  results: [2, 3],
  dead: ['"young"'],
  notifications: ['"young"'],
  rateLimits: ["busy@0", "idle-young@1"],
  untouched: 3,
};

/** Rows straddling the default retention of each table. */
const AROUND_DEFAULTS: Ages = {
  deadS: [8 * DAY, 6 * DAY],
  notificationsS: [25 * 3600, 23 * 3600],
  rateLimitsS: [32 * DAY, 30 * DAY],
};

/** The file's maintenance rounds: one row per win of the maintenance lock, via a trigger. */
function countRounds(db: Database): () => Array<{ owner: string; at: number }> {
  db.driver.exec(`CREATE TABLE IF NOT EXISTS test_rounds (owner TEXT, at INTEGER);
    CREATE TRIGGER IF NOT EXISTS test_count_rounds AFTER INSERT ON _honker_locks
      WHEN NEW.name = '${LOCK}'
      BEGIN INSERT INTO test_rounds VALUES (NEW.owner, unixepoch()); END;`);
  return () =>
    db.driver.all<{ owner: string; at: number }>("SELECT owner, at FROM test_rounds ORDER BY rowid")
      .map((row) => ({ owner: row.owner, at: row.at }));
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: maintenance`, () => {
    it(
      "trims each table with the default retention: results past their TTL, dead jobs after 7 days, past rate-limit windows, notifications after a day",
      {
        skip,
        ...SLOW,
      },
      async () => {
        const db = await openWith(entry, tempDbPath(), { retention: { intervalMs: 1000 } });
        try {
          seed(db, AROUND_DEFAULTS);
          assert.deepEqual(left(db), SEEDED);
          const stop = startWaiting(db);
          await untilLeft(db, TRIMMED, "the first round");
          await stop();
        } finally {
          db.closeAll();
        }
      },
    );

    it("trims each table with custom retention periods", { skip, ...SLOW }, async () => {
      const retention = { resultsS: 60, deadS: 60, rateLimitsS: 60, notificationsS: 60 };
      const db = await openWith(entry, tempDbPath(), {
        retention: { ...retention, intervalMs: 1000 },
      });
      try {
        seed(db, { deadS: [120, 30], notificationsS: [120, 30], rateLimitsS: [120, 30] });
        const stop = startWaiting(db);
        await untilLeft(db, TRIMMED, "the first round");
        await stop();
      } finally {
        db.closeAll();
      }
    });

    it("saveResult() without ttlS expires after the results retention; ttlS: 0 keeps it forever", {
      skip,
    }, async () => {
      for (
        const [retention, ttl] of [
          [undefined, 7 * DAY],
          [{ resultsS: 60 }, 60],
          [{ resultsS: null }, null],
          [false, null],
        ] as const
      ) {
        const db = await openWith(entry, tempDbPath(), { retention });
        try {
          db.saveResult(1, "default");
          db.saveResult(2, "forever", { ttlS: 0 });
          db.saveResult(3, "short", { ttlS: 5 });
          const now = sqlNow(db);
          const expiries = db.driver.all<{ e: number | null }>(
            "SELECT expires_at - ? AS e FROM _honker_results ORDER BY job_id",
            [now],
          ).map((row) => row.e);
          assert.ok(
            expiries[0] === ttl || (ttl !== null && Math.abs(Number(expiries[0]) - ttl) <= 1),
            `retention ${JSON.stringify(retention)}: expires in ${expiries[0]}, want ${ttl}`,
          );
          assert.deepEqual(expiries.slice(1).map((e) => e === null ? null : e <= 5), [null, true]);
          assert.equal(db.getResult(1), "default");
        } finally {
          db.closeAll();
        }
      }
    });

    it("a table whose retention is null is left alone while the others are trimmed", {
      skip,
      ...SLOW,
    }, async () => {
      const db = await openWith(entry, tempDbPath(), {
        retention: { deadS: null, notificationsS: null, intervalMs: 1000 },
      });
      try {
        seed(db, AROUND_DEFAULTS);
        const stop = startWaiting(db);
        const expected = { ...TRIMMED, dead: SEEDED.dead, notifications: SEEDED.notifications };
        await untilLeft(db, expected, "the first round");
        await stop();
      } finally {
        db.closeAll();
      }
      const other = await openWith(entry, tempDbPath(), {
        retention: { resultsS: null, rateLimitsS: null, intervalMs: 1000 },
      });
      try {
        seed(other, AROUND_DEFAULTS);
        const stop = startWaiting(other);
        const expected = { ...TRIMMED, results: SEEDED.results, rateLimits: SEEDED.rateLimits };
        await untilLeft(other, expected, "the first round");
        await stop();
      } finally {
        other.closeAll();
      }
    });

    it("retention: false runs no maintenance and keeps every row", { skip, ...SLOW }, async () => {
      const db = await openWith(entry, tempDbPath(), { retention: false });
      try {
        seed(db, AROUND_DEFAULTS);
        const stop = startWaiting(db);
        await sleep(2_500);
        await stop();
        assert.deepEqual(left(db), SEEDED);
        assert.equal(countRows(db, "_honker_locks"), 0);
        assert.deepEqual(db.runMaintenance(), {
          results: 0,
          dead: 0,
          rateLimits: 0,
          notifications: 0,
          jobEvents: 0,
        });
      } finally {
        db.closeAll();
      }
    });

    it("a Database that never waits starts no maintenance", { skip, ...SLOW }, async () => {
      const db = await openWith(entry, tempDbPath(), { retention: { intervalMs: 1000 } });
      try {
        seed(db, AROUND_DEFAULTS);
        db.queue("q").enqueue("a write, as a CLI command makes");
        await sleep(2_500);
        assert.deepEqual(left(db).dead, SEEDED.dead);
        assert.equal(countRows(db, "_honker_locks"), 0);
      } finally {
        db.closeAll();
      }
    });

    it("runMaintenance() trims now, in batches, and counts what it deleted", { skip }, async () => {
      const db = await openWith(entry, tempDbPath(), {});
      try {
        seed(db, AROUND_DEFAULTS);
        db.driver.run(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
          INSERT INTO _honker_dead (id, queue, payload, died_at)
          SELECT 100 + i, 'q', '1', unixepoch() - 30 * 86400 FROM n`,
        );
        assert.deepEqual(db.runMaintenance(), {
          results: 1,
          dead: 2501,
          rateLimits: 2,
          notifications: 1,
          jobEvents: 0,
        });
        assert.deepEqual(left(db), TRIMMED);
      } finally {
        db.closeAll();
      }
    });

    it("two Databases on one file run at most one maintenance round per interval", {
      skip,
      ...SLOW,
    }, async () => {
      const path = tempDbPath();
      const a = await openWith(entry, path, { retention: { intervalMs: 1000 } });
      const b = await openWith(entry, path, { retention: { intervalMs: 1000 } });
      const rounds = countRounds(a);
      const stops = [startWaiting(a), startWaiting(b)];
      try {
        await sleep(4_500);
        const seen = rounds();
        const seconds = seen.map((round) => round.at);
        assert.ok(seen.length >= 2, `only ${seen.length} rounds in 4.5 s`);
        assert.ok(seen.length <= 6, `${seen.length} rounds in 4.5 s`);
        assert.deepEqual(seconds, [...new Set(seconds)], "two rounds in one interval");
        // While the lock is live nobody runs a round; once it lapses, someone does.
        a.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() + 3600 WHERE name = ?", [
          LOCK,
        ]);
        a.driver.run(`INSERT INTO _honker_dead (id, queue, payload, died_at)
          VALUES (99, 'q', '"garbage"', unixepoch() - 30 * 86400)`);
        const before = rounds().length;
        await sleep(2_500);
        assert.equal(rounds().length, before, "a round ran while the lock was held");
        assert.equal(countRows(a, "_honker_dead"), 1);
        a.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() - 1 WHERE name = ?", [
          LOCK,
        ]);
        await until(() => countRows(a, "_honker_dead") === 0, "a round after the lock lapsed");
        // At least that round; on a loaded machine the next interval's may have run too, before
        // `until` looked again. At most one per interval is checked on the seconds below.
        const after = rounds();
        assert.ok(after.length >= before + 1, "no round after the lock lapsed");
        const laterSeconds = after.slice(before).map((round) => round.at);
        assert.deepEqual(laterSeconds, [...new Set(laterSeconds)], "two rounds in one interval");
      } finally {
        for (const stop of stops) await stop();
        a.closeAll();
        b.closeAll();
      }
    });

    it(
      "maintenance meeting a database held by BEGIN IMMEDIATE neither throws nor stalls timers, and trims once it is free",
      {
        skip,
        ...SLOW,
      },
      async () => {
        const path = tempDbPath();
        const db = await openWith(entry, path, { retention: { intervalMs: 1000 } });
        const holder: SqliteDriver = await entry.open(path);
        const failures: unknown[] = [];
        const onError = (error: unknown) => failures.push(error);
        process.on("unhandledRejection", onError);
        try {
          seed(db, AROUND_DEFAULTS);
          holder.exec("BEGIN IMMEDIATE");
          holder.run("CREATE TABLE app_orders (id INTEGER PRIMARY KEY)");
          const stop = startWaiting(db);
          let last = Date.now();
          let worstGapMs = 0;
          const ticker = setInterval(() => {
            const now = Date.now();
            worstGapMs = Math.max(worstGapMs, now - last);
            last = now;
          }, 10);
          await sleep(3_500);
          clearInterval(ticker);
          assert.deepEqual(left(db).dead, SEEDED.dead, "trimmed through another's write lock?");
          // Each try waits at most the 20 ms background busy timeout; with the application's
          // 5000 ms one, a round would stall the loop for 5 s. The bound leaves room for a busy
          // machine.
          assert.ok(worstGapMs < 1_000, `a 10 ms timer stalled for ${worstGapMs} ms`);
          holder.exec("COMMIT");
          await untilLeft(db, TRIMMED, "a round once the lock was free");
          await stop();
          assert.deepEqual(failures, []);
        } finally {
          process.off("unhandledRejection", onError);
          try {
            holder.exec("ROLLBACK");
          } catch {
            // Committed above.
          }
          holder.close();
          db.closeAll();
        }
      },
    );

    it("close() stops maintenance: no round runs after it", { skip, ...SLOW }, async () => {
      const path = tempDbPath();
      const db = await openWith(entry, path, { retention: { intervalMs: 1000 } });
      const watcher = await openWith(entry, path, { retention: false });
      try {
        const rounds = countRounds(watcher);
        startWaiting(db);
        await until(() => rounds().length === 1, "the first round");
        db.close();
        watcher.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() - 1");
        await sleep(2_500);
        assert.equal(rounds().length, 1);
      } finally {
        db.closeAll();
        watcher.closeAll();
      }
    });

    it("removeConsumer() drops an abandoned consumer, so trim() deletes what it held back", {
      skip,
    }, async () => {
      const db = await openWith(entry, tempDbPath(), {});
      try {
        const stream = db.stream<number>("orders");
        stream.publishMany([1, 2, 3, 4, 5]);
        stream.saveOffset("abandoned", 0);
        stream.saveOffset("current", stream.readSince(0).at(-1)!.offset);
        assert.equal(stream.trim({ keepLast: 1 }), 0, "the abandoned consumer holds every event");
        assert.equal(stream.removeConsumer("abandoned"), true);
        assert.equal(stream.removeConsumer("abandoned"), false);
        assert.deepEqual(stream.consumers().map((c) => c.name), ["current"]);
        assert.equal(stream.getOffset("abandoned"), 0);
        assert.equal(stream.trim({ keepLast: 1 }), 4);
        assert.equal(db.stream("other").removeConsumer("current"), false);
        assert.throws(
          () => stream.removeConsumer(""),
          /Cannot remove a consumer of stream "orders": the consumer name must not be empty/,
        );
      } finally {
        db.closeAll();
      }
    });
  });
}

describe("retention options", () => {
  it("bad retention options are refused before the file is touched", async () => {
    const cases: Array<[unknown, RegExp]> = [
      ["7d", /retention must be an object or false, got "7d"/],
      [true, /retention must be an object or false, got true/],
      [{ deadS: 0 }, /retention\.deadS must be a positive number of seconds or null/],
      [{ resultsS: -1 }, /retention\.resultsS must be a positive number of seconds or null/],
      [{ notificationsS: 1.5 }, /retention\.notificationsS must be whole seconds, got 1\.5/],
      [{ rateLimitsS: "1d" }, /retention\.rateLimitsS must be a finite number, got "1d"/],
      [
        { intervalMs: 60 },
        /retention\.intervalMs must be between 1000 and \d+ milliseconds, got 60/,
      ],
      [{ intervalMs: 2 ** 31 }, /retention\.intervalMs must be between 1000 and 2147483000 /],
      [{ intervalMs: null }, /retention\.intervalMs must be an integer, got null/],
      [{ intervalS: 60 }, /unknown option "intervalS" \(did you mean "intervalMs"\?\)/],
      [{ notificationsMaxKeep: -1 }, /retention\.notificationsMaxKeep must not be negative/],
      [{ dead: 60 }, /\(retention\): unknown option "dead" \(did you mean "deadS"\?\)/],
    ];
    for (const [retention, message] of cases) {
      const path = tempDbPath();
      await assert.rejects(
        open(path, { retention } as DatabaseOptions),
        (error: Error) => {
          assert.match(error.message, /^Cannot open the database( \(retention\))?: /);
          assert.match(error.message, message);
          assert.ok(error instanceof TypeError || error instanceof RangeError);
          return true;
        },
        JSON.stringify(retention),
      );
      assert.equal(existsSync(path), false, "the file was created");
    }
  });

  it("the deprecated notificationRetention still prunes, as notificationsS and notificationsMaxKeep", async () => {
    const path = tempDbPath();
    const db = await open(path, { notificationRetention: { maxKeep: 2 }, retention: false });
    try {
      db.driver.run(`INSERT INTO _honker_notifications (channel, payload, created_at) VALUES
        ('c', '1', unixepoch() - 30 * 86400), ('c', '2', unixepoch()), ('c', '3', unixepoch()),
        ('c', '4', unixepoch())`);
      assert.deepEqual(db.runMaintenance(), {
        results: 0,
        dead: 0,
        rateLimits: 0,
        notifications: 2,
        jobEvents: 0,
      });
      assert.equal(countRows(db, "_honker_notifications"), 2);
    } finally {
      db.close();
    }
    await assert.rejects(
      open(tempDbPath(), { notificationRetention: { maxKeep: -1 } }),
      /Cannot open the database \(notificationRetention\): maxKeep must not be negative/,
    );
    await assert.rejects(
      open(tempDbPath(), {
        notificationRetention: { olderThanS: 60 },
        retention: { notificationsS: 60 },
      }),
      /give retention\.notificationsS \/ notificationsMaxKeep or the deprecated notificationRetention, not both/,
    );
  });

  it("retention.notificationsMaxKeep keeps the newest notifications, with the age rule", async () => {
    const db = await open(tempDbPath(), { retention: { notificationsMaxKeep: 3 } });
    try {
      db.driver.run(`INSERT INTO _honker_notifications (channel, payload, created_at) VALUES
        ('c', '1', unixepoch()), ('c', '2', unixepoch()), ('c', '3', unixepoch() - 2 * 86400),
        ('c', '4', unixepoch()), ('c', '5', unixepoch())`);
      assert.equal(db.runMaintenance().notifications, 3);
      const left = db.driver.all<{ p: string }>(
        "SELECT payload AS p FROM _honker_notifications ORDER BY id",
      ).map((row) => row.p);
      assert.deepEqual(left, ["4", "5"]);
    } finally {
      db.close();
    }
  });
});

describe("maintenance across processes", () => {
  it("a process and its peer on one file run at most one round per interval", SLOW, async () => {
    const path = tempDbPath();
    const db = await open(path, { retention: { intervalMs: 1000 } });
    const rounds = countRounds(db);
    const peer = spawnScript(PEER, ["wait", path, "1000"]);
    const out = new LineReader(peer);
    const output = collect(peer);
    try {
      await out.waitFor(/^waiting$/, 20_000);
      const stop = startWaiting(db);
      await sleep(4_500);
      await stop();
      const seen = rounds();
      const seconds = seen.map((round) => round.at);
      assert.ok(seen.length >= 2 && seen.length <= 6, `${seen.length} rounds in 4.5 s`);
      assert.deepEqual(seconds, [...new Set(seconds)], "two rounds in one interval");
      // The peer keeps trying: hold the lock for it, then let it lapse with this process idle.
      db.driver.run("UPDATE _honker_locks SET expires_at = unixepoch() - 1 WHERE name = ?", [LOCK]);
      db.driver.run(`INSERT INTO _honker_dead (id, queue, payload, died_at)
        VALUES (99, 'q', '"garbage"', unixepoch() - 30 * 86400)`);
      db.close();
      const check = await open(path, { retention: false });
      await until(() => countRows(check, "_honker_dead") === 0, "the peer's round");
      check.close();
    } finally {
      peer.stdin.end();
      const result = await output;
      assert.equal(result.code, 0, result.stderr);
      db.close();
    }
  });

  it("a process whose maintenance has started still exits by itself", SLOW, async () => {
    const peer = spawnScript(PEER, ["idle", tempDbPath(), "1000"]);
    peer.stdin.end();
    const out = new LineReader(peer);
    let stderr = "";
    peer.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    await out.waitFor(/^idle$/, 20_000);
    const code = await exitedWithin(peer, 10_000);
    assert.equal(code, 0, `the idle process did not exit by itself\n${stderr}`);
  });
});
