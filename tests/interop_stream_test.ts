// Stream and notify interop with honker's real extension (spec §3, §4, §9 items 35–48): a second
// node:sqlite connection to the same file loads libhonker_ext.so, and each side reads what the
// other wrote. Every driver of the matrix takes the honker-ts side in turn.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Database, StreamEvent } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { plainAll, removeTempDirs } from "./_helpers.ts";
import {
  alignTimes,
  functionsSkip,
  honkerExtSkip,
  near,
  PAYLOADS,
  withPair,
} from "./_honker_ext.ts";
import type { HonkerExt, PairBody } from "./_honker_ext.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

const KEYS = [null, "customer-7", null, "", "ключ", null];

/** An element of `honker_stream_read_since`'s array (payload is the stored JSON text). */
interface ExtEvent {
  created_at: number;
  key: string | null;
  offset: number;
  payload: string;
  topic: string;
}

const readSinceExt = (ext: HonkerExt, topic: string, offset: number, limit = 1000) =>
  ext.json<ExtEvent[]>("SELECT honker_stream_read_since(?, ?, ?)", [topic, offset, limit]);

/** Our event in the shape of honker's element, payload re-encoded as honker stores it. */
const asExt = (e: StreamEvent): ExtEvent => ({
  created_at: e.createdAt,
  key: e.key,
  offset: e.offset,
  payload: JSON.stringify(e.payload),
  topic: e.topic,
});

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Returns once `db`'s watcher has reported a commit made on honker's connection. The poll
 * watcher (Deno's default) starts in a worker and takes its first `PRAGMA data_version` reading
 * only once that worker is up; a commit made before then is never signalled, so a test that
 * wants to see a wake-up must not commit before this.
 */
async function watcherLive(db: Database, ext: HonkerExt): Promise<void> {
  const updates = db.updates();
  const woke = updates.next();
  try {
    for (let i = 0; i < 100; i++) {
      ext.call("SELECT notify('warm-up', '0')");
      const seen = await Promise.race([woke.then(() => true), sleep(50).then(() => false)]);
      if (seen) return;
    }
    throw new Error("the watcher reported none of 100 commits from honker's connection");
  } finally {
    await updates.return?.();
  }
}

// The same SQL text runs on honker's extension and on our SQL functions, one statement per line.
// Offsets: s gets 1, 2, 4, 5; other gets 3; the trigger publishes 6 and 7.
const DIFF_SCRIPT = `SELECT honker_stream_publish('s', NULL, '{"k":"ü"}')
SELECT honker_stream_publish('s', 'key-1', '"str"')
SELECT honker_stream_publish('other', NULL, '[1,2]')
SELECT honker_stream_publish('s', '', 'not json'), honker_stream_publish('s', 'key-1', 'null')
SELECT honker_stream_read_since('s', 0, 100)
SELECT honker_stream_read_since('s', 1, 2), honker_stream_read_since('s', 5, 10)
SELECT honker_stream_read_since('nope', 0, 10), honker_stream_read_since('s', 0, 0)
SELECT honker_stream_read_since('s', -3, 1), honker_stream_read_since('s', 2.0, 1.0)
SELECT honker_stream_get_offset('c', 's')
SELECT honker_stream_save_offset('c', 's', 2)
SELECT honker_stream_save_offset('c', 's', 1), honker_stream_save_offset('c', 's', 2)
SELECT honker_stream_save_offset('c', 's', 5), honker_stream_save_offset('c', 'other', 3.0)
SELECT honker_stream_save_offset('d', 's', 0), honker_stream_save_offset('e', 's', -5)
SELECT honker_stream_get_offset('c', 's'), honker_stream_get_offset('c', 'other')
SELECT honker_stream_get_offset('d', 's'), honker_stream_get_offset('e', 's')
SELECT honker_stream_get_offset('x', 's'), honker_stream_get_offset('s', 'c')
SELECT notify('ch', '{"a":1}')
SELECT notify('ch', '"two"'), notify('other', 'not json'), notify('', '')
CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)
CREATE TRIGGER orders_out AFTER INSERT ON orders BEGIN SELECT honker_stream_publish('orders', NULL, json_object('id', NEW.id)), notify('orders', json_object('total', NEW.total)); END
INSERT INTO orders (id, total) VALUES (10, 250), (11, 99)
SELECT honker_stream_read_since('orders', 0, 10)`.split("\n");

// Calls both sides refuse (the messages differ; that each throws is what must agree).
const REFUSED = `SELECT notify('ch', NULL)
SELECT notify('ch', 5)
SELECT notify(NULL, '1')
SELECT honker_stream_publish('s', 5, '1')
SELECT honker_stream_publish(NULL, NULL, '1')
SELECT honker_stream_publish('s', NULL, NULL)
SELECT honker_stream_read_since('s', 1.5, 10)
SELECT honker_stream_read_since('s', '0', 10)
SELECT honker_stream_read_since('s', 0, NULL)
SELECT honker_stream_save_offset('c', 's', 'x')
SELECT honker_stream_save_offset('c', 's', 2.5)
SELECT honker_stream_get_offset(NULL, 's')`.split("\n");

const TABLES = ["_honker_stream", "_honker_stream_consumers", "_honker_notifications", "orders"];

/** Every column of a result row, JSON arrays and objects parsed. */
function parsedColumns(row: object | undefined): unknown[] {
  return Object.values(row ?? {}).map((value) =>
    typeof value === "string" && /^[[{]/.test(value) ? JSON.parse(value) : value
  );
}

for (const entry of driverMatrix()) {
  const skip = EXT_SKIP ?? entry.skip;
  const functionsSkipped = skip ?? await functionsSkip(entry);
  const test = (name: string, body: PairBody, options: { timeout?: number } = {}) =>
    it(name, { skip, ...options }, withPair(entry, body));

  describe(`${entry.id} ↔ honker extension: stream interop`, () => {
    test("events published by honker-ts are read by honker, same offsets and keys", (db, ext) => {
      const s = db.stream("orders");
      const t = ext.now();
      const offsets = PAYLOADS.map((p, i) => s.publish(p, { key: KEYS[i] }));
      offsets.push(...s.publishMany([{ many: 1 }, { many: 2 }], { key: "batch" }));
      const theirs = readSinceExt(ext, "orders", 0);
      assert.deepEqual(theirs.map((e) => e.offset), offsets);
      assert.deepEqual(theirs.map((e) => e.key), [...KEYS, "batch", "batch"]);
      assert.deepEqual(theirs.map((e) => JSON.parse(e.payload)), [
        ...PAYLOADS,
        { many: 1 },
        { many: 2 },
      ]);
      assert.equal(theirs[0].payload, '"a \\"quoted\\" string"');
      for (const e of theirs) near(e.created_at, t, "created_at");
      assert.deepEqual(theirs, s.readSince(0).map(asExt));
      assert.deepEqual(readSinceExt(ext, "orders", offsets[2], 2).map((e) => e.offset), [
        offsets[3],
        offsets[4],
      ]);
    });

    test("events published by honker are read by readSince(), same offsets and keys", (db, ext) => {
      const offsets = PAYLOADS.map((p, i) =>
        ext.call<number>("SELECT honker_stream_publish(?, ?, ?)", [
          "orders",
          KEYS[i],
          JSON.stringify(p),
        ])
      );
      const ours = db.stream("orders").readSince(0);
      assert.deepEqual(ours.map((e) => e.offset), offsets);
      assert.deepEqual(ours.map((e) => e.key), KEYS);
      assert.deepEqual(ours.map((e) => e.payload), PAYLOADS);
      assert.deepEqual(ours.map(asExt), readSinceExt(ext, "orders", 0));
      assert.deepEqual(db.stream("orders").readSince(offsets[3], 10).map((e) => e.offset), [
        offsets[4],
        offsets[5],
      ]);
    });

    test("both sides publishing interleaved share one offset sequence", (db, ext) => {
      const s = db.stream<string>("t");
      const publishExt = (topic: string, p: string) =>
        ext.call<number>("SELECT honker_stream_publish(?, NULL, ?)", [topic, JSON.stringify(p)]);
      const offsets = [
        s.publish("ours 1"),
        publishExt("t", "theirs 1"),
        db.stream("elsewhere").publish("ours, other topic"),
        publishExt("t", "theirs 2"),
        s.publish("ours 2"),
      ];
      assert.deepEqual(offsets, [1, 2, 3, 4, 5]);
      const expected = ["ours 1", "theirs 1", "theirs 2", "ours 2"];
      assert.deepEqual(s.readSince(0).map((e) => e.payload), expected);
      assert.deepEqual(readSinceExt(ext, "t", 0).map((e) => JSON.parse(e.payload)), expected);
      assert.deepEqual(readSinceExt(ext, "t", 0).map((e) => e.offset), [1, 2, 4, 5]);
    });

    test("offsets saved by either side are read by the other (name = consumer)", (db, ext) => {
      const s = db.stream("orders");
      const saveExt = (consumer: string, offset: number) =>
        ext.call<number>("SELECT honker_stream_save_offset(?, ?, ?)", [consumer, "orders", offset]);
      const getExt = (consumer: string) =>
        ext.call<number>("SELECT honker_stream_get_offset(?, ?)", [consumer, "orders"]);
      assert.equal(saveExt("billing", 7), 1);
      assert.equal(s.getOffset("billing"), 7);
      assert.equal(s.saveOffset("billing", 5), false); // monotonic across sides
      assert.equal(s.saveOffset("billing", 12), true);
      assert.equal(getExt("billing"), 12);
      assert.equal(saveExt("billing", 12), 0);
      assert.equal(s.saveOffset("mailer", 3), true);
      assert.equal(getExt("mailer"), 3);
      assert.equal(getExt("unknown"), 0);
      assert.equal(s.getOffset("unknown"), 0);
      assert.deepEqual(
        ext.rows("SELECT name, topic, offset FROM _honker_stream_consumers ORDER BY name"),
        [{ name: "billing", topic: "orders", offset: 12 }, {
          name: "mailer",
          topic: "orders",
          offset: 3,
        }],
      );
      assert.equal(
        ext.call("SELECT honker_stream_get_offset('orders', 'billing')"),
        0,
        "not honker-node's swapped (topic, consumer) layout",
      );
    });

    test("subscribe() resumes from honker's saved offset and saves where honker reads it", async (
      db,
      ext,
    ) => {
      const offsets = [1, 2, 3, 4, 5].map((n) =>
        ext.call<number>("SELECT honker_stream_publish('t', NULL, ?)", [String(n)])
      );
      ext.call("SELECT honker_stream_save_offset('c', 't', ?)", [offsets[1]]);
      const got: number[] = [];
      const events = db.stream<number>("t").subscribe("c", { idlePollMs: null });
      for await (const event of events) {
        got.push(event.payload);
        if (got.length === 2) {
          events.commit(); // leaving the loop alone would deliver the event in hand again
          break;
        }
      }
      assert.deepEqual(got, [3, 4]);
      assert.equal(ext.call("SELECT honker_stream_get_offset('c', 't')"), offsets[3]);
      const rest = readSinceExt(
        ext,
        "t",
        ext.call<number>("SELECT honker_stream_get_offset('c', 't')"),
      );
      assert.deepEqual(rest.map((e) => e.payload), ["5"]);
    }, { timeout: 10_000 });

    test("a subscriber waiting for new events wakes on honker's publish", async (db, ext) => {
      await watcherLive(db, ext);
      const sub = db.stream<string>("live").subscribe("c", { idlePollMs: null });
      const next = sub.next();
      await sleep(20);
      const offset = ext.call<number>("SELECT honker_stream_publish('live', 'k', '\"hi\"')");
      const event = (await within(next, 5_000, "the subscriber")).value;
      assert.deepEqual([event?.offset, event?.key, event?.payload], [offset, "k", "hi"]);
      await sub.return?.();
    }, { timeout: 10_000 });
  });

  describe(`${entry.id} ↔ honker extension: notify interop`, () => {
    test("honker's notify() reaches db.listen(); rolled back and earlier ones do not", async (
      db,
      ext,
    ) => {
      const notifyExt = (channel: string, payload: unknown) =>
        ext.call<number>("SELECT notify(?, ?)", [channel, JSON.stringify(payload)]);
      await watcherLive(db, ext);
      notifyExt("orders", "before the listener");
      const listener = db.listen("orders", { idlePollMs: null });
      const next = listener.next();
      await sleep(20);
      ext.exec("BEGIN IMMEDIATE");
      notifyExt("orders", "rolled back");
      ext.exec("ROLLBACK");
      notifyExt("payments", "another channel");
      const ids = PAYLOADS.map((p) => notifyExt("orders", p));
      const got = [(await within(next, 5_000, "the listener")).value];
      for (let i = 1; i < PAYLOADS.length; i++) {
        got.push((await within(listener.next(), 5_000, "the listener")).value);
      }
      assert.deepEqual(got.map((n) => n?.id), ids);
      assert.deepEqual(got.map((n) => n?.payload), PAYLOADS);
      assert.ok(got.every((n) => n?.channel === "orders"));
      near(got[0]?.createdAt, ext.now(), "createdAt");
      await listener.return?.();
    }, { timeout: 15_000 });

    test("db.notify() is a row honker sees with the same channel and payload", (db, ext) => {
      const ids = PAYLOADS.map((p) => db.notify("orders", p));
      assert.throws(() =>
        db.transaction((tx) => {
          db.notify("orders", "rolled back", { tx });
          throw new Error("rollback");
        }), /rollback/);
      const committed = db.transaction((tx) => db.notify("orders", { in: "tx" }, { tx }));
      const rows = ext.rows<{ id: number; channel: string; payload: string; created_at: number }>(
        "SELECT id, channel, payload, created_at FROM _honker_notifications ORDER BY id",
      );
      assert.deepEqual(rows.map((r) => r.id), [...ids, committed]);
      assert.ok(rows.every((r) => r.channel === "orders"));
      assert.deepEqual(rows.map((r) => r.payload), [
        ...PAYLOADS.map((p) => JSON.stringify(p)),
        '{"in":"tx"}',
      ]);
      for (const r of rows) near(r.created_at, ext.now(), "created_at");
      assert.equal(ext.call("SELECT notify('orders', 'x')"), committed + 1, "one id sequence");
    });

    it(
      "the same SQL gives the same results on honker's extension and our SQL functions",
      { skip: functionsSkipped },
      withPair(entry, (_db, ext, driver) => {
        for (const sql of DIFF_SCRIPT) {
          const theirs = parsedColumns(ext.rows(sql)[0]);
          const ours = parsedColumns(driver.all(sql)[0]);
          assert.deepEqual(alignTimes(ours, theirs), theirs, sql);
        }
        for (const table of TABLES) {
          const theirs = ext.rows(`SELECT * FROM ${table} ORDER BY 1`);
          const ours = plainAll(driver.all(`SELECT * FROM ${table} ORDER BY 1`));
          assert.deepEqual(alignTimes(ours, theirs), theirs, table);
        }
        for (const sql of REFUSED) {
          assert.throws(() => ext.rows(sql), Error, `honker refuses ${sql}`);
          assert.throws(() => driver.get(sql), Error, `honker-ts refuses ${sql}`);
        }
      }, true),
    );
  });
}
