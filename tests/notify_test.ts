// Notify / listen / prune (spec §9 items 35–39, 42), on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type { StandardSchemaV1 } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";
import { countRows, withDb } from "./_db.ts";

/** An order id in, a typed order out; anything else is refused. */
const ORDER: StandardSchemaV1<unknown, { id: number }> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) =>
      typeof (value as { id?: unknown } | null)?.id === "number"
        ? { value: { id: (value as { id: number }).id } }
        : { issues: [{ message: "must be an order", path: ["id"] }] },
  },
};

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: notify/listen`, () => {
    it(
      "notify() returns an id and stores the channel with a JSON payload",
      { skip },
      withDb(entry, (db) => {
        const id = db.notify("orders", { id: 7 });
        assert.ok(id > 0);
        const row = db.driver.get<{ channel: string; payload: string }>(
          "SELECT channel, payload FROM _honker_notifications WHERE id = ?",
          [id],
        );
        assert.deepEqual({ ...row }, { channel: "orders", payload: '{"id":7}' });
      }),
    );

    it(
      "a rolled-back notify leaves no row; a committed one stays",
      { skip },
      withDb(entry, (db) => {
        assert.throws(() =>
          db.transaction((tx) => {
            db.notify("c", 1, { tx });
            throw new Error("no");
          }), /no/);
        assert.equal(countRows(db, "_honker_notifications"), 0);
        db.transaction((tx) => db.notify("c", 2, { tx }));
        assert.equal(countRows(db, "_honker_notifications"), 1);
      }),
    );

    it(
      "payloads of every JSON type round-trip to a listener",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const values = [{ a: [1, { b: null }] }, [1, "two"], "text", 42, 1.5, null, true];
        const listener = db.listen("types");
        for (const value of values) db.notify("types", value);
        for (const value of values) assert.deepEqual((await listener.next()).value?.payload, value);
        await listener.return?.();
      }),
    );

    it(
      "a listener sees only what is sent after it attached, on its channel, in order",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        db.notify("orders", "before");
        const listener = db.listen<string>("orders");
        const other = db.listen<string>("orders");
        db.notify("payments", "elsewhere");
        db.notify("orders", "first");
        db.notify("orders", "second");
        assert.equal((await listener.next()).value?.payload, "first");
        assert.equal((await listener.next()).value?.payload, "second");
        assert.equal((await other.next()).value?.payload, "first");
        await listener.return?.();
        await other.return?.();
      }),
    );

    it(
      "listen() payloads are unknown; with a schema they are validated and typed, and a bad one ends the listener naming its id",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const plain = db.listen("orders");
        const _typesOnly = async () => {
          for await (const n of plain) {
            // @ts-expect-error: without a schema or a type parameter, a payload is unknown.
            const _id: number = n.payload.id;
          }
        };
        const checked = db.listen("orders", { schema: ORDER });
        db.notify("orders", { id: 1, extra: true });
        db.notify("orders", { id: 2 });
        db.notify("orders", "not an order");
        db.notify("orders", { id: 4 });
        const first = (await checked.next()).value!;
        const id: number = first.payload.id; // typed by the schema's output
        assert.equal(id, 1);
        assert.deepEqual(first.payload, { id: 1 }, "the schema's output, not the stored JSON");
        assert.deepEqual((await checked.next()).value?.payload, { id: 2 });
        const badId = db.driver.get<{ id: number }>(
          "SELECT id FROM _honker_notifications WHERE payload = '\"not an order\"'",
        )!.id;
        await assert.rejects(
          checked.next(),
          (e: Error) =>
            e instanceof TypeError &&
            e.message ===
              `Cannot listen on channel "orders": the notification ${badId} does not match the ` +
                "schema (must be an order at $.id)",
        );
        assert.equal((await checked.next()).done, true, "the listener ended");
        assert.deepEqual((await plain.next()).value?.payload, { id: 1, extra: true }, "unchecked");
        await plain.return?.();
      }),
    );

    it(
      "a waiting listener wakes on a notify from another connection",
      { skip, timeout: 10_000 },
      withDb(entry, async (db, path) => {
        const otherDriver = await entry.open(path);
        try {
          const listener = db.listen<number>("c", { idlePollMs: null });
          const next = listener.next();
          await new Promise((r) => setTimeout(r, 20));
          otherDriver.run("INSERT INTO _honker_notifications (channel, payload) VALUES ('c', '5')");
          assert.equal((await next).value?.payload, 5);
          await listener.return?.();
        } finally {
          otherDriver.close();
        }
      }),
    );

    it(
      "the SQL notify() function works from a trigger",
      {
        skip: skip ??
          entry.noSqlFunctions,
      },
      withDb(entry, async (db) => {
        db.driver.exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY);
        CREATE TRIGGER orders_notify AFTER INSERT ON orders BEGIN
          SELECT notify('orders', json_object('id', NEW.id));
        END;`);
        const listener = db.listen<{ id: number }>("orders");
        db.transaction((tx) => tx.run("INSERT INTO orders (id) VALUES (?)", [42]));
        assert.deepEqual((await listener.next()).value?.payload, { id: 42 });
        await listener.return?.();
      }),
    );

    it(
      "pruneNotifications() follows honker's OR semantics",
      { skip },
      withDb(entry, (db) => {
        for (let i = 0; i < 50; i++) db.notify("c", i);
        assert.equal(db.pruneNotifications({ maxKeep: 5 }), 45);
        assert.equal(db.pruneNotifications(), 0);
        assert.equal(db.pruneNotifications({ maxKeep: 10 }), 0);
        assert.equal(db.pruneNotifications({ maxKeep: 4 }), 1); // fresh-1..3 and the newest stay
        db.driver.run(
          "UPDATE _honker_notifications SET created_at = unixepoch() - 100 WHERE id = (SELECT max(id) FROM _honker_notifications)",
        );
        assert.equal(db.pruneNotifications({ olderThanS: 50, maxKeep: 2 }), 3);
        assert.equal(countRows(db, "_honker_notifications"), 1);
        assert.equal(db.pruneNotifications({ maxKeep: 0 }), 1);
        assert.throws(() => db.pruneNotifications({ maxKeep: -1 }), /maxKeep must not be negative/);
      }),
    );

    it(
      "keeps the newest maxKeep by rank even with id gaps",
      { skip },
      withDb(entry, (db) => {
        db.driver.run(
          "INSERT INTO _honker_notifications (id, channel, payload) VALUES (90, 'c', '1'), (100, 'c', '2')",
        );
        assert.equal(db.pruneNotifications({ maxKeep: 5 }), 0);
        assert.equal(db.pruneNotifications({ maxKeep: 2 }), 0);
        assert.equal(db.pruneNotifications({ maxKeep: 1 }), 1);
        assert.equal(
          db.driver.get<{ id: number }>("SELECT id FROM _honker_notifications")?.id,
          100,
        );
      }),
    );

    it(
      "refuses bad input and writes nothing",
      { skip },
      withDb(entry, (db) => {
        assert.throws(() => db.notify("", 1), /the channel must not be empty/);
        assert.throws(() => db.notify("c", () => 1), /function at \$/);
        assert.throws(() => db.listen(""), /the channel must not be empty/);
        assert.throws(
          () => db.pruneNotifications({ olderThanS: -1 }),
          /olderThanS must not be negative/,
        );
        assert.equal(countRows(db, "_honker_notifications"), 0);
      }),
    );
  });
}

describe("open({ notificationRetention })", () => {
  it("prunes through maintenance (not at open: opening writes nothing), and refuses a bad policy", async () => {
    const path = tempDbPath();
    const first = await open(path);
    for (let i = 0; i < 5; i++) first.notify("c", i);
    first.close();
    const db = await open(path, { notificationRetention: { maxKeep: 2 } });
    assert.equal(countRows(db, "_honker_notifications"), 5);
    assert.equal(db.runMaintenance().notifications, 3);
    assert.equal(countRows(db, "_honker_notifications"), 2);
    db.close();
    await assert.rejects(
      open(path, { notificationRetention: { maxKeep: -1 } }),
      /maxKeep must not be negative/,
    );
  });
});
