// open(), the schema (spec §9 item 71), transactions (item 78), close and dispose.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Database,
  DatabaseClosedError,
  fromDriver,
  open,
  UnsupportedDatabaseError,
} from "../mod.ts";
import { openNodeSqlite } from "../adapters/node_sqlite.ts";
import { openDriver } from "../adapters/auto.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, withDb } from "./_db.ts";
import { tempDbPath } from "./_helpers.ts";

/** The tables and column lists honker's core tests pin (spec §1.2, §9 item 71). */
const HONKER_COLUMNS: Record<string, string[]> = {
  _honker_notifications: ["id", "channel", "payload", "created_at"],
  _honker_live: [
    "id",
    "queue",
    "payload",
    "state",
    "priority",
    "run_at",
    "worker_id",
    "claim_expires_at",
    "attempts",
    "max_attempts",
    "created_at",
    "expires_at",
  ],
  _honker_dead: [
    "id",
    "queue",
    "payload",
    "priority",
    "run_at",
    "attempts",
    "max_attempts",
    "last_error",
    "created_at",
    "died_at",
  ],
  _honker_locks: ["name", "owner", "expires_at"],
  _honker_rate_limits: ["name", "window_start", "count"],
  _honker_scheduler_tasks: [
    "name",
    "queue",
    "cron_expr",
    "payload",
    "priority",
    "expires_s",
    "next_fire_at",
    "enabled",
    "max_attempts",
  ],
  _honker_results: ["job_id", "value", "created_at", "expires_at"],
  _honker_stream: ["offset", "topic", "key", "payload", "created_at"],
  _honker_stream_consumers: ["name", "topic", "offset"],
};

/**
 * honker-ts's own tables: schedules in croner's extended syntax, which honker cannot parse, and
 * the settings every process must agree on for a queue (paused, events on).
 */
const OWN_COLUMNS: Record<string, string[]> = {
  _honker_ts_queues: ["queue", "paused", "events"],
  _honker_ts_job_keys: ["queue", "key", "job_id", "mode", "created_at", "expires_at", "fire_by"],
  _honker_ts_scheduler_keys: ["name", "key"],
  _honker_ts_job_options: ["job_id", "timeout_s", "backoff"],
  _honker_ts_job_events: ["id", "queue", "job_id", "type", "data", "attempt", "created_at"],
  _honker_ts_job_progress: ["job_id", "value", "updated_at"],
  _honker_ts_scheduler_tasks: HONKER_COLUMNS._honker_scheduler_tasks,
};

describe("open()", () => {
  it("opens a new file with the runtime's default driver, in WAL mode", async () => {
    const db = await open(tempDbPath());
    try {
      assert.equal(
        db.driver.get<{ journal_mode: string }>("PRAGMA journal_mode")?.journal_mode,
        "wal",
      );
      assert.equal(db.driver.get<{ timeout: number }>("PRAGMA busy_timeout")?.timeout, 5000);
      assert.equal(db.driver.get<{ synchronous: number }>("PRAGMA synchronous")?.synchronous, 1);
    } finally {
      db.close();
    }
  });

  it("wakeSource says what runs: the wake mode asked for, or local without a watcher", async () => {
    const path = tempDbPath();
    const polled = await open(path, { wake: "poll" });
    const bare = new Database(await openDriver(path), { ownsDriver: true });
    try {
      assert.equal(polled.wakeSource, "poll");
      assert.equal(bare.wakeSource, "local");
    } finally {
      polled.close();
      bare.close();
    }
  });

  it("refuses :memory: and says why", async () => {
    await assert.rejects(
      open(":memory:"),
      (e: Error) =>
        e instanceof UnsupportedDatabaseError &&
        /in-memory database cannot be used.*WAL/.test(e.message),
    );
  });

  it("refuses a database that cannot be put into WAL mode", async () => {
    const path = tempDbPath();
    const writer = await openNodeSqlite(path);
    writer.exec("CREATE TABLE t (x); PRAGMA journal_mode = DELETE");
    writer.close();
    const readOnly = await openNodeSqlite(path, { readOnly: true });
    try {
      assert.throws(
        () => fromDriver(readOnly),
        (e: Error) =>
          e instanceof UnsupportedDatabaseError &&
          /could not be put into WAL mode \(journal_mode is "(delete|unchanged: attempt to write a readonly database)"\)/
            .test(e.message),
      );
    } finally {
      readOnly.close();
    }
  });

  it("refuses an unknown driver name and a bad path", async () => {
    await assert.rejects(
      open(tempDbPath(), { driver: "sqlite9" as never }),
      /unknown driver "sqlite9"/,
    );
    await assert.rejects(open(""), /path must be a non-empty string/);
  });

  it("several processes' worth of connections bootstrapping one new file at once agree", async () => {
    const path = tempDbPath();
    const dbs = await Promise.all(Array.from({ length: 6 }, () => open(path)));
    try {
      const schemas = dbs.map((db) =>
        JSON.stringify(db.driver.all("SELECT sql FROM sqlite_master ORDER BY name"))
      );
      assert.equal(new Set(schemas).size, 1);
    } finally {
      for (const db of dbs) db.close();
    }
  });
});

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: Database`, () => {
    it(
      "bootstraps honker's nine tables with honker's exact columns, and honker-ts's own",
      { skip },
      withDb(entry, (db) => {
        const tables = db.driver.all<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_honker%' ESCAPE '\\' ORDER BY name",
        ).map((r) => r.name);
        const expected = { ...HONKER_COLUMNS, ...OWN_COLUMNS };
        assert.deepEqual(tables, Object.keys(expected).sort());
        for (const [table, columns] of Object.entries(expected)) {
          const actual = db.driver.all<{ name: string }>(
            `SELECT name FROM pragma_table_info('${table}')`,
          ).map((r) => r.name);
          assert.deepEqual(actual, columns, table);
        }
      }),
    );

    it("bootstrap is idempotent and migrates a pre-Mantle scheduler table", { skip }, async () => {
      const path = tempDbPath();
      const raw = await entry.open(path);
      raw.exec(`CREATE TABLE _honker_scheduler_tasks (name TEXT PRIMARY KEY, queue TEXT NOT NULL,
        cron_expr TEXT NOT NULL, payload TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0,
        expires_s INTEGER, next_fire_at INTEGER NOT NULL)`);
      raw.run(
        "INSERT INTO _honker_scheduler_tasks (name, queue, cron_expr, payload, next_fire_at) VALUES ('t', 'q', '@every 1s', 'null', 1)",
      );
      const db = fromDriver(raw);
      const again = fromDriver(raw);
      try {
        assert.deepEqual({
          ...raw.get("SELECT enabled, max_attempts FROM _honker_scheduler_tasks"),
        }, { enabled: 1, max_attempts: 3 });
      } finally {
        again.close();
        db.close();
        raw.close();
      }
    });

    it(
      "transaction() commits, rolls back on throw, and returns the callback's value",
      { skip },
      withDb(entry, (db) => {
        db.driver.exec("CREATE TABLE t (x INTEGER)");
        assert.equal(db.transaction((tx) => (tx.run("INSERT INTO t VALUES (1)"), "done")), "done");
        assert.throws(() =>
          db.transaction((tx) => {
            tx.run("INSERT INTO t VALUES (2)");
            throw new Error("nope");
          }), /nope/);
        assert.deepEqual(db.driver.all<{ x: number }>("SELECT x FROM t").map((r) => r.x), [1]);
      }),
    );

    it(
      "a finished transaction refuses further statements",
      { skip },
      withDb(entry, (db) => {
        let kept: { run(sql: string): unknown } | undefined;
        db.transaction((tx) => {
          kept = tx;
        });
        assert.throws(() => kept?.run("SELECT 1"), /the transaction is already finished/);
      }),
    );

    it(
      "transaction() refuses nesting and async callbacks, rolling back",
      { skip },
      withDb(entry, (db) => {
        db.driver.exec("CREATE TABLE t (x INTEGER)");
        assert.throws(
          () => db.transaction(() => db.transaction(() => 1)),
          /nested transactions are not supported/,
        );
        assert.throws(
          () =>
            db.transaction(async (tx) => {
              tx.run("INSERT INTO t VALUES (1)");
              await Promise.resolve();
            }),
          (e: Error) => e instanceof TypeError && /callbacks must be synchronous/.test(e.message),
        );
        assert.equal(countRows(db, "t"), 0);
        assert.equal(db.transaction(() => 2), 2);
      }),
    );

    it(
      "close() is idempotent; later calls throw DatabaseClosedError; using disposes",
      { skip },
      async () => {
        const path = tempDbPath();
        const driver = await entry.open(path);
        const disposed = fromDriver(driver);
        disposed.queue("q").enqueue(1);
        disposed[Symbol.dispose]();
        assert.equal(disposed.closed, true);
        const db = fromDriver(driver);
        db.close();
        db.close();
        assert.equal(db.closed, true);
        assert.throws(() => db.queue("q"), (e: Error) =>
          e instanceof DatabaseClosedError &&
          /Cannot open queue "q": the database is closed/.test(e.message));
        assert.equal(driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live")?.n, 1);
        driver.close();
      },
    );
  });
}
