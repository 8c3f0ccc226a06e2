// A connection without honker's SQL functions (bun:sqlite cannot run SQL inside one, or
// sqlFunctions: false) meets a trigger calling notify(): the insert fails, and the error says why
// and what to do instead of SQLite's bare "no such function: notify".

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, open, SqliteError } from "../mod.ts";
import type { Database } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";

const ORDERS = `
  CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
  CREATE TRIGGER orders_notify AFTER INSERT ON orders BEGIN
    SELECT notify('orders', json_object('id', NEW.id));
  END;
`;

/** Asserts that `fn` throws SQLite's "no such function" error for `name`, explained by `why`. */
function assertExplained(fn: () => unknown, name: string, why: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SqliteError, `not a SqliteError: ${error}`);
    assert.equal(error.code, "SQLITE_ERROR");
    assert.match(error.message, new RegExp(`^no such function: ${name}\\b`));
    assert.match(error.message, /has no honker SQL functions/);
    assert.match(error.message, why);
    assert.match(error.message, /keep triggers that call them off tables this process writes/);
    assert.ok(error.cause instanceof Error, "the binding's error is kept as the cause");
    return true;
  });
}

/** Every way a statement reaches SQLite through a Database, with a trigger calling notify(). */
function assertEveryPathExplained(db: Database, why: RegExp): void {
  db.driver.exec(ORDERS);
  const insert = "INSERT INTO orders (id, email) VALUES (?, ?)";
  // The application's own statement, in a transaction and on the Database's connection.
  assertExplained(
    () => db.transaction((tx) => tx.run(insert, [1, "a@example.com"])),
    "notify",
    why,
  );
  assertExplained(() => db.driver.run(insert, [2, "b@example.com"]), "notify", why);
  // SQL written for honker's extension.
  assertExplained(
    () => db.driver.get("SELECT honker_queue_next_claim_at('q') AS t"),
    "honker_queue_next_claim_at",
    why,
  );
  // A statement honker-ts runs itself, meeting the application's trigger on its table.
  db.driver.exec(`CREATE TRIGGER live_notify AFTER INSERT ON _honker_live BEGIN
    SELECT notify('jobs', NEW.queue);
  END`);
  assertExplained(() => db.queue("emails").enqueue({ to: "c@example.com" }), "notify", why);
  assert.equal(db.driver.get<{ n: number }>("SELECT count(*) AS n FROM orders")?.n, 0);
}

function countNotifications(db: Database): number {
  return Number(db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_notifications")?.n);
}

describe("missing SQL functions", () => {
  for (const entry of driverMatrix()) {
    it(
      `${entry.id}: with sqlFunctions: false, a trigger calling notify() fails naming why and what to do`,
      {
        skip: entry.skip,
      },
      async () => {
        const driver = await entry.open(tempDbPath());
        const db = fromDriver(driver, { sqlFunctions: false });
        try {
          assertEveryPathExplained(db, /sqlFunctions: false/);
        } finally {
          db.close();
          driver.close();
        }
      },
    );
  }

  for (const entry of driverMatrix()) {
    it(`${entry.id}: by default, a trigger calling notify() notifies, or fails naming the driver`, {
      skip: entry.skip,
    }, async () => {
      const driver = await entry.open(tempDbPath());
      const db = fromDriver(driver);
      try {
        if (typeof driver.function === "function" && driver.reentrantFunctions !== false) {
          db.driver.exec(ORDERS);
          db.driver.run("INSERT INTO orders (id, email) VALUES (1, 'a@example.com')");
          assert.equal(countNotifications(db), 1);
        } else {
          const name = driver.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
          assertEveryPathExplained(
            db,
            new RegExp(`${name} (cannot run queries inside|driver cannot)`),
          );
        }
      } finally {
        db.close();
        driver.close();
      }
    });
  }

  it("on bun:sqlite, a trigger calling notify() fails naming bun:sqlite and the drivers that can", {
    skip: runtimeKey() === "bun" ? undefined : "bun:sqlite needs Bun",
  }, async () => {
    const db = await open(tempDbPath()); // bun:sqlite, Bun's default
    try {
      assert.equal(db.driver.name, "bun:sqlite");
      assertEveryPathExplained(
        db,
        /bun:sqlite cannot run queries inside a SQL function.*driver: "bun-ffi"/,
      );
    } finally {
      db.close();
    }
  });

  it("other errors, and other missing functions, keep SQLite's own message", async () => {
    const db = await open(tempDbPath(), { sqlFunctions: false });
    try {
      assert.throws(() => db.driver.get("SELECT no_such_thing() AS x"), {
        name: "SqliteError",
        message: /^no such function: no_such_thing$/,
      });
      assert.throws(() => db.driver.run("INSERT INTO missing_table VALUES (1)"), {
        name: "SqliteError",
        message: /^no such table: missing_table$/,
      });
    } finally {
      db.close();
    }
  });

  it("with honker's SQL functions registered, the trigger's notification is sent", async () => {
    const db = await open(tempDbPath(), runtimeKey() === "bun" ? { driver: "bun-ffi" } : {});
    try {
      db.driver.exec(ORDERS);
      db.transaction((tx) => tx.run("INSERT INTO orders (id, email) VALUES (1, 'a@example.com')"));
      const row = db.driver.get<{ channel: string; payload: string }>(
        "SELECT channel, payload FROM _honker_notifications",
      );
      assert.deepEqual({ ...row }, { channel: "orders", payload: '{"id":1}' });
    } finally {
      db.close();
    }
  });
});
