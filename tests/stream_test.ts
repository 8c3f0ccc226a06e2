// Streams (spec §9 items 43–47) and their bad input, on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, withDb, withDbWithoutValues } from "./_db.ts";
import { tempDbPath } from "./_helpers.ts";

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: Stream`, () => {
    it(
      "publish() returns increasing offsets; readSince(0) returns them with keys",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream<{ n: number }>("orders");
        const a = s.publish({ n: 1 });
        const b = s.publish({ n: 2 }, { key: "customer-7" });
        assert.ok(a > 0 && b > a);
        const events = s.readSince(0);
        assert.deepEqual(events.map((e) => [e.offset, e.key, e.payload.n, e.topic]), [
          [a, null, 1, "orders"],
          [b, "customer-7", 2, "orders"],
        ]);
        assert.equal(db.stream("other").readSince(0).length, 0);
        assert.deepEqual(s.readSince(a, 10).map((e) => e.offset), [b]);
        assert.deepEqual(s.readSince(0, 1).map((e) => e.offset), [a]);
      }),
    );

    it(
      "publishMany() writes one statement's worth of events in order",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream<number>("t");
        const offsets = s.publishMany([1, 2, 3], { key: "k" });
        assert.equal(offsets.length, 3);
        assert.deepEqual(s.readSince(0).map((e) => [e.payload, e.key]), [[1, "k"], [2, "k"], [
          3,
          "k",
        ]]);
        assert.deepEqual(s.publishMany([]), []);
      }),
    );

    it(
      "offsets are monotonic: lower saves are refused, getOffset starts at 0",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream("t");
        assert.equal(s.getOffset("c"), 0);
        assert.equal(s.saveOffset("c", 5), true);
        assert.equal(s.saveOffset("c", 3), false);
        assert.equal(s.saveOffset("c", 5), false);
        assert.equal(s.saveOffset("c", 10), true);
        assert.equal(s.getOffset("c"), 10);
        const row = db.driver.get<{ name: string; topic: string }>(
          "SELECT name, topic FROM _honker_stream_consumers",
        );
        assert.deepEqual({ ...row }, { name: "c", topic: "t" }); // not honker-node's swapped layout
      }),
    );

    it(
      "publish and saveOffset roll back with their transaction",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream("t");
        assert.throws(() =>
          db.transaction((tx) => {
            s.publish("x", { tx });
            s.saveOffset("c", 99, { tx });
            throw new Error("rollback");
          }), /rollback/);
        assert.equal(s.readSince(0).length, 0);
        assert.equal(s.getOffset("c"), 0);
      }),
    );

    it(
      "subscribe(): break without commit() delivers the event in hand again; commit() then break saves it",
      { skip },
      withDb(entry, async (db) => {
        const s = db.stream<string>("t");
        const [first, second] = s.publishMany(["one", "two"]);
        for await (const event of s.subscribe("c")) {
          assert.equal(event.offset, first);
          break;
        }
        assert.equal(s.getOffset("c"), 0);
        const events = s.subscribe("c");
        for await (const event of events) {
          assert.equal(event.offset, first);
          events.commit();
          break;
        }
        assert.equal(s.getOffset("c"), first);
        for await (const event of s.subscribe("c")) {
          assert.equal(event.offset, second);
          break;
        }
      }),
    );

    it(
      "a stream event whose handler threw is delivered again after a restart",
      { skip },
      async () => {
        const path = tempDbPath();
        const first = fromDriver(await entry.open(path));
        const offsets = first.stream<number>("t").publishMany([1, 2, 3]);
        const handled: number[] = [];
        await assert.rejects(async () => {
          for await (const event of first.stream<number>("t").subscribe("c")) {
            if (event.payload === 2) throw new Error("handler failed");
            handled.push(event.payload);
          }
        }, /handler failed/);
        assert.deepEqual(handled, [1]);
        first.driver.close();
        first.close();
        // The restarted process resumes at the event whose handler threw.
        const again = fromDriver(await entry.open(path));
        try {
          const s = again.stream<number>("t");
          assert.equal(s.getOffset("c"), offsets[0]);
          const sub = s.subscribe("c");
          assert.equal((await sub.next()).value?.payload, 2);
          assert.equal((await sub.next()).value?.payload, 3);
          await sub.return?.();
          assert.equal(s.getOffset("c"), offsets[1]);
        } finally {
          again.driver.close();
          again.close();
        }
      },
    );

    it(
      "an abort while an event is in hand saves only the events handled before it",
      { skip },
      withDb(entry, async (db) => {
        const s = db.stream<number>("t");
        const offsets = s.publishMany([1, 2, 3]);
        const stop = new AbortController();
        const seen: number[] = [];
        for await (const event of s.subscribe("c", { signal: stop.signal })) {
          seen.push(event.payload);
          if (event.payload === 2) stop.abort();
        }
        assert.deepEqual(seen, [1, 2]);
        assert.equal(s.getOffset("c"), offsets[0]);
      }),
    );

    it(
      "subscribe() is at-least-once: a save covers only events whose handler returned",
      { skip },
      withDb(entry, async (db) => {
        const s = db.stream<number>("t");
        const offsets = s.publishMany(Array.from({ length: 25 }, (_, i) => i));
        const sub = s.subscribe("c", { saveEveryN: 10, saveEveryMs: 0 });
        for (let i = 0; i < 25; i++) {
          assert.equal((await sub.next()).value?.payload, i);
          if (i === 10) assert.equal(s.getOffset("c"), offsets[9]); // 10 handled, the 11th in hand
        }
        assert.equal(s.getOffset("c"), offsets[19]);
        // A crash now (no return()) would redeliver from event 20: simulate by a new subscriber.
        const resumed = s.subscribe("c2", { fromOffset: s.getOffset("c") });
        assert.equal((await resumed.next()).value?.payload, 20);
        await resumed.return?.();
        await sub.return?.();
        // Leaving the loop saves the events handled before the one in hand (event 24).
        assert.equal(s.getOffset("c"), offsets[23]);
      }),
    );

    it(
      "subscribe() with saveEveryN and saveEveryMs 0 never saves",
      { skip },
      withDb(entry, async (db) => {
        const s = db.stream<number>("t");
        s.publishMany([1, 2, 3]);
        let seen = 0;
        for await (
          const _ of s.subscribe("c", { saveEveryN: 0, saveEveryMs: 0 })
        ) if (++seen === 3) break;
        assert.equal(s.getOffset("c"), 0);
      }),
    );

    it(
      "subscribe() waits for new events when caught up",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const s = db.stream<string>("t");
        const sub = s.subscribe("c", { idlePollMs: null });
        const next = sub.next();
        setTimeout(() => s.publish("late"), 30);
        assert.equal((await next).value?.payload, "late");
        await sub.return?.();
      }),
    );

    it(
      "waitForEvents() waits for the next commit, or resolves [] after timeoutMs",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const s = db.stream<string>("t");
        const started = Date.now();
        assert.deepEqual(await s.waitForEvents(0, { limit: 10, timeoutMs: 100 }), []);
        assert.ok(Date.now() - started >= 90);
        const pending = s.waitForEvents(0, { limit: 10, timeoutMs: 5_000 });
        setTimeout(() => s.publish("now"), 20);
        assert.deepEqual((await pending).map((e) => e.payload), ["now"]);
      }),
    );

    it(
      "waitForEvents() resolves at once when events are there, honours limit, waits without a timeout until abort",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const s = db.stream<number>("t");
        const [a, b] = s.publishMany([1, 2, 3]);
        assert.deepEqual((await s.waitForEvents(a, { limit: 1 })).map((e) => e.offset), [b]);
        assert.deepEqual((await s.waitForEvents(0)).map((e) => e.payload), [1, 2, 3]);
        const last = s.readSince(0).at(-1)!.offset;
        const stop = new AbortController();
        const pending = s.waitForEvents(last, { signal: stop.signal });
        let settled = false;
        pending.then(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal(settled, false, "no timeout: still waiting");
        stop.abort();
        assert.deepEqual(await pending, []);
        // readSince() never waits: an array, not a Promise, even when there is nothing yet.
        const now = s.readSince(last);
        assert.ok(Array.isArray(now) && now.length === 0);
      }),
    );

    it(
      "lag() and consumers() report what each consumer has left",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream("t");
        const [a] = s.publishMany([1, 2, 3]);
        s.saveOffset("slow", a);
        s.saveOffset("none", 0);
        assert.equal(s.lag("slow"), 2);
        assert.equal(s.lag("unknown"), 3);
        assert.deepEqual(s.consumers(), [{ name: "none", offset: 0, lag: 3 }, {
          name: "slow",
          offset: a,
          lag: 2,
        }]);
      }),
    );

    it(
      "trim() keeps events a consumer has not passed unless forced",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream("t");
        const offsets = s.publishMany([1, 2, 3, 4, 5]);
        s.saveOffset("reader", offsets[1]);
        assert.equal(s.trim({ keepLast: 1 }), 2);
        assert.deepEqual(s.readSince(0).map((e) => e.payload), [3, 4, 5]);
        assert.equal(s.trim({ keepLast: 1, force: true }), 2);
        assert.deepEqual(s.readSince(0).map((e) => e.payload), [5]);
        assert.equal(s.trim({ olderThanS: 3600, force: true }), 0);
        assert.throws(() => s.trim({}), /give olderThanS, keepLast or both/);
      }),
    );

    it(
      "refuses bad input with clear errors and writes nothing",
      { skip },
      withDb(entry, (db) => {
        const s = db.stream("t");
        const bad: Array<[() => unknown, RegExp]> = [
          [() => db.stream(""), /the topic must not be empty/],
          [() => s.publish({ n: 1n }), /payload is not JSON-serialisable \(BigInt at \$\.n\)/],
          [() => s.publish(1, { key: 5 as unknown as string }), /key must be a string or null/],
          [() => s.readSince(-1), /offset must not be negative/],
          [() => s.readSince(1.5), /offset must be an integer/],
          [() => s.readSince(0, 0), /limit must be at least 1/],
          [() => s.saveOffset("", 1), /the consumer name must not be empty/],
          [() => s.saveOffset("c", -2), /offset must not be negative/],
          [() => s.subscribe("c", { batchSize: 0 }), /batchSize must be at least 1/],
          [() => s.trim({ keepLast: -1 }), /keepLast must not be negative/],
        ];
        for (const [call, message] of bad) assert.throws(call, message);
        assert.equal(countRows(db, "_honker_stream"), 0);
        assert.equal(countRows(db, "_honker_stream_consumers"), 0);
      }),
    );

    it(
      "reads the same events through all() when the driver has no values()",
      { skip },
      withDbWithoutValues(entry, async (db) => {
        const s = db.stream<{ n: number }>("t");
        const [a, b] = s.publishMany([{ n: 1 }, { n: 2 }], { key: "k" });
        const createdAt =
          db.driver.get<{ t: number }>("SELECT created_at AS t FROM _honker_stream")!.t;
        const events = s.readSince(0).map((e) => ({ ...e }));
        assert.deepEqual(events, [
          { offset: a, topic: "t", key: "k", payload: { n: 1 }, createdAt },
          { offset: b, topic: "t", key: "k", payload: { n: 2 }, createdAt },
        ]);
        for await (const event of s.subscribe("c")) {
          assert.deepEqual({ ...event }, events[0]);
          break;
        }
        if (entry.noSqlFunctions) return;
        const json =
          db.driver.get<{ j: string }>("SELECT honker_stream_read_since('t', ?, 5) AS j", [
            a,
          ])!.j;
        assert.equal(
          json,
          `[{"created_at":${createdAt},"key":"k","offset":${b},"payload":"{\\"n\\":2}","topic":"t"}]`,
        );
      }),
    );
  });
}
