// honker's SQL functions called from a trigger while the statement that fired it still runs
// (issue #15 item 7): the nested call runs the same SQL text, so the adapter must not hand it
// the statement that is executing.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SqliteDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, withDb } from "./_db.ts";
import { plainAll, tempDbPath } from "./_helpers.ts";

/** Opens the adapters that take a cache size with room for one statement only. */
const ONE_STATEMENT_CACHE: Partial<Record<string, (path: string) => Promise<SqliteDriver>>> = {
  "node-sqlite": async (path) =>
    (await import("../adapters/node_sqlite.ts")).openNodeSqlite(path, { statementCacheSize: 1 }),
  "deno-ffi": async (path) =>
    (await import("../adapters/deno_ffi.ts")).openDenoFfi(path, { statementCacheSize: 1 }),
  "bun-ffi": async (path) =>
    (await import("../adapters/bun_ffi.ts")).openBunFfi(path, { statementCacheSize: 1 }),
};

// honker_enqueue(queue, payload, run_at, delay_s, priority, max_attempts, expires_s)
const FOLLOW_UP_TRIGGER = `CREATE TRIGGER follow_up AFTER INSERT ON _honker_live
  WHEN NEW.queue = 'orders'
  BEGIN
    SELECT honker_enqueue('receipts', json_object('order', NEW.id), NULL, NULL, 0, 3, NULL);
    SELECT notify('orders', json_object('order', NEW.id));
  END`;

const RELAY_TRIGGER = `CREATE TRIGGER relay AFTER INSERT ON _honker_notifications
  WHEN NEW.channel = 'orders'
  BEGIN
    SELECT notify('audit', NEW.payload);
  END`;

for (const entry of driverMatrix()) {
  const skip = entry.skip ?? entry.noSqlFunctions;
  describe(`${entry.id}: SQL functions re-entering a running statement`, () => {
    it(
      "a trigger on _honker_live that enqueues a follow-up job leaves enqueue() returning the " +
        "new job's id, and both jobs exist",
      { skip },
      withDb(entry, (db) => {
        db.driver.exec(FOLLOW_UP_TRIGGER);
        const orders = db.queue("orders");
        const first = orders.enqueue({ n: 1 });
        const second = orders.enqueue({ n: 2 });
        const rows = plainAll(
          db.driver.all<{ id: number; queue: string; payload: string }>(
            "SELECT id, queue, payload FROM _honker_live ORDER BY id",
          ),
        );
        const orderIds = rows.filter((row) => row.queue === "orders").map((row) => row.id);
        assert.deepEqual([first, second], orderIds, "enqueue() returned another row's id");
        assert.deepEqual(
          rows.filter((row) => row.queue === "receipts").map((row) => JSON.parse(row.payload)),
          [{ order: first }, { order: second }],
        );
        assert.deepEqual(
          db.driver.all<{ payload: string }>(
            "SELECT payload FROM _honker_notifications WHERE channel = 'orders' ORDER BY id",
          ).map((row) => JSON.parse(row.payload)),
          [{ order: first }, { order: second }],
        );
      }),
    );

    it(
      "a trigger on _honker_notifications that relays through notify() leaves notify() " +
        "returning its own notification's id",
      { skip },
      withDb(entry, (db) => {
        db.driver.exec(RELAY_TRIGGER);
        const first = db.notify("orders", { n: 1 });
        const second = db.notify("orders", { n: 2 });
        const rows = plainAll(
          db.driver.all<{ id: number; channel: string; payload: string }>(
            "SELECT id, channel, payload FROM _honker_notifications ORDER BY id",
          ),
        );
        assert.deepEqual(
          [first, second],
          rows.filter((row) => row.channel === "orders").map((row) => row.id),
          "notify() returned another row's id",
        );
        assert.deepEqual(
          rows.filter((row) => row.channel === "audit").map((row) => JSON.parse(row.payload)),
          [{ n: 1 }, { n: 2 }],
        );
        assert.equal(countRows(db, "_honker_notifications"), 4);
      }),
    );

    const openSmall = ONE_STATEMENT_CACHE[entry.id];
    it(
      "a statement evicted from the cache by a nested call while it runs still finishes, and " +
        "runs again afterwards",
      { skip: skip ?? (openSmall ? undefined : `${entry.id} takes no statement cache size`) },
      async () => {
        const driver = await openSmall!(tempDbPath());
        try {
          driver.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT)");
          driver.function!("nested", () => {
            driver.get("SELECT count(*) AS n FROM t");
            return `nested wrote ${
              driver.run("INSERT INTO t (note) VALUES ('inner')").lastInsertRowid
            }`;
          });
          const outer = "INSERT INTO t (note) VALUES (nested())";
          assert.equal(driver.run(outer).lastInsertRowid, 2);
          assert.equal(driver.run(outer).lastInsertRowid, 4);
          assert.deepEqual(plainAll(driver.all("SELECT id, note FROM t ORDER BY id")), [
            { id: 1, note: "inner" },
            { id: 2, note: "nested wrote 1" },
            { id: 3, note: "inner" },
            { id: 4, note: "nested wrote 3" },
          ]);
        } finally {
          driver.close();
        }
      },
    );
  });
}
