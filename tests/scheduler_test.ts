// The scheduler (spec §9 items 49–62, 65), on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import type { StandardSchemaV1 } from "../mod.ts";

const HOUR = 3600;

/** A Standard Schema for `{ n }` with a positive n. */
const POSITIVE_N: StandardSchemaV1<{ n: number }, { n: number }> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) =>
      ((value as { n?: unknown } | null)?.n as number) > 0
        ? { value: value as { n: number } }
        : { issues: [{ message: "n must be positive" }] },
  },
};

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: Scheduler`, () => {
    it(
      "add() then remove() returns true, a second remove() false",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "@every 1s" });
        assert.ok(s.soonest() > 0);
        assert.equal(s.remove("t"), true);
        assert.equal(s.remove("t"), false);
        assert.equal(s.soonest(), 0);
      }),
    );

    it(
      "add() takes a Queue handle: stores its name, its schema checks the payload at add()",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        const pings = db.queue<{ n: number }>("pings");
        s.add({ name: "typed", queue: pings, schedule: "@every 1s", payload: { n: 1 } });
        // @ts-expect-error: the payload is typed by the queue
        s.add({ name: "wrong", queue: pings, schedule: "@every 1s", payload: { n: "1" } });
        s.remove("wrong");
        assert.deepEqual(s.list().map((t) => [t.name, t.queue]), [["typed", "pings"]]);
        const checked = db.queue("checked", { schema: POSITIVE_N });
        assert.throws(
          () => s.add({ name: "bad", queue: checked, schedule: "@every 1s", payload: { n: -1 } }),
          /Cannot add schedule "bad": payload does not match the schema \(n must be positive\)/,
        );
        assert.equal(s.list().length, 1, "nothing was written");
        s.add({ name: "good", queue: checked, schedule: "@every 1s", payload: { n: 2 } });
        s.tick(s.soonest());
        assert.deepEqual(db.queue("checked").claimOne("w")?.payload, { n: 2 });
      }),
    );

    it(
      "tick(soonest) of @every 1s fires once, named after the task",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "fast", queue: "q", schedule: "@every 1s", payload: { n: 1 } });
        const due = s.soonest();
        const fires = s.tick(due);
        assert.equal(fires.length, 1);
        assert.equal(fires[0].name, "fast");
        assert.equal(fires[0].fireAt, due);
        assert.deepEqual(db.queue("q").claimOne("w")?.payload, { n: 1 });
        assert.deepEqual(s.tick(due), []); // a second tick at the same now fires nothing
      }),
    );

    it(
      "a tick at boundary + 1 fires once and advances one period",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "hourly", queue: "q", schedule: "0 * * * *" });
        s.add({ name: "daily", queue: "q", schedule: "0 3 * * *" });
        for (const [name, period] of [["hourly", HOUR], ["daily", 24 * HOUR]] as const) {
          const boundary = s.list().find((t) => t.name === name)?.nextFireAt ?? 0;
          const fires = s.tick(boundary + 1).filter((f) => f.name === name);
          assert.deepEqual(fires.map((f) => f.fireAt), [boundary]);
          assert.equal(s.list().find((t) => t.name === name)?.nextFireAt, boundary + period);
        }
      }),
    );

    it(
      "catches up missed boundaries: 4 hours behind fires 5 times",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "hourly", queue: "q", schedule: "0 * * * *" });
        const original = s.soonest();
        db.driver.run("UPDATE _honker_scheduler_tasks SET next_fire_at = ?", [original - 4 * HOUR]);
        assert.equal(s.tick(original).length, 5);
        assert.equal(s.soonest(), original + HOUR);
      }),
    );

    it(
      "add() again with the same schedule and queue keeps the next fire: missed boundaries fire",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        const spec = { name: "hourly", queue: "q", schedule: "0 * * * *" };
        s.add(spec);
        const original = s.soonest();
        // The process that added it stopped before three boundaries; a new one boots and adds
        // it again, with a new payload, priority, expiry and attempts (none moves the phase).
        const stopped = original - 3 * HOUR;
        db.driver.run("UPDATE _honker_scheduler_tasks SET next_fire_at = ?", [stopped]);
        s.add({ ...spec, payload: { v: 2 }, priority: 5, expiresS: 60, maxAttempts: 4 });
        assert.equal(s.list()[0].nextFireAt, stopped);
        const fires = s.tick(sqlNow(db));
        assert.deepEqual(fires.map((f) => f.fireAt), [stopped, stopped + HOUR, stopped + 2 * HOUR]);
        const job = db.queue("q").claimOne("w");
        assert.deepEqual([job?.payload, job?.priority, job?.maxAttempts], [{ v: 2 }, 5, 4]);
        assert.equal(s.soonest(), original);
      }),
    );

    it(
      "add() with a new schedule or queue starts from the next boundary after now",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "0 * * * *" });
        const original = s.soonest();
        const rewind = () =>
          db.driver.run("UPDATE _honker_scheduler_tasks SET next_fire_at = ?", [original - HOUR]);
        rewind();
        s.add({ name: "t", queue: "q", schedule: "30 * * * *" });
        const halfPast = s.soonest();
        assert.ok(halfPast > sqlNow(db) && halfPast <= sqlNow(db) + HOUR, `${halfPast}`);
        assert.equal(new Date(halfPast * 1000).getMinutes(), 30);
        rewind();
        s.add({ name: "t", queue: "other", schedule: "30 * * * *" });
        assert.equal(s.soonest(), halfPast);
        rewind();
        s.add({ name: "t", queue: "other", schedule: "30 * * * *", extendedSyntax: true });
        assert.equal(s.soonest(), original - HOUR, "the same expression read with extendedSyntax");
      }),
    );

    it(
      "update() with the stored expression keeps the next fire; a new one recomputes it",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "0 * * * *" });
        const original = s.soonest();
        db.driver.run("UPDATE _honker_scheduler_tasks SET next_fire_at = ?", [original - HOUR]);
        assert.equal(s.update("t", { schedule: "0 * * * *", priority: 3 }), true);
        assert.equal(s.soonest(), original - HOUR);
        assert.equal(s.update("t", { schedule: "15 * * * *" }), true);
        assert.ok(s.soonest() > sqlNow(db));
      }),
    );

    it(
      "catch-up is capped at 64 fires, then skips ahead",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "fast", queue: "q", schedule: "@every 1s" });
        const now = sqlNow(db);
        const original = s.soonest();
        db.driver.run("UPDATE _honker_scheduler_tasks SET next_fire_at = ?", [original - 1000]);
        const fires = s.tick(now);
        assert.equal(fires.length, 64);
        assert.equal(fires.at(-1)?.fireAt, original - 1000 + 63);
        assert.equal(s.soonest(), now + 1);
        assert.equal(countRows(db, "_honker_live"), 64);
      }),
    );

    it(
      "fired jobs take the schedule's maxAttempts, not the queue handle's",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        const q = db.queue("q", { maxAttempts: 7 });
        s.add({ name: "a", queue: "q", schedule: "@every 1s" });
        s.add({ name: "b", queue: "q", schedule: "@every 1s", maxAttempts: 4 });
        s.tick(s.soonest());
        assert.deepEqual(q.claimBatch("w", 2).map((j) => j.maxAttempts).sort(), [3, 4]);
        assert.equal(s.update("b", { maxAttempts: 2 }), true);
        assert.equal(s.list().find((t) => t.name === "b")?.maxAttempts, 2);
        assert.equal(s.update("b", { maxAttempts: null }), true);
        assert.equal(s.list().find((t) => t.name === "b")?.maxAttempts, 3);
      }),
    );

    it(
      "list() returns every field",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({
          name: "t",
          queue: "q",
          schedule: "*/5 * * * *",
          payload: { k: "v" },
          priority: 4,
          expiresS: 30,
        });
        const [task] = s.list();
        assert.equal(task.name, "t");
        assert.equal(task.queue, "q");
        assert.equal(task.schedule, "*/5 * * * *");
        assert.deepEqual(task.payload, { k: "v" });
        assert.equal(task.priority, 4);
        assert.equal(task.expiresS, 30);
        assert.equal(task.enabled, true);
        assert.ok(task.nextFireAt > sqlNow(db));
      }),
    );

    it(
      "pause() and resume() report changes; a paused task does not fire",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "@every 1s" });
        assert.equal(s.pause("t"), true);
        assert.equal(s.pause("t"), false);
        assert.equal(s.pause("missing"), false);
        assert.equal(s.list()[0].enabled, false);
        assert.equal(s.soonest(), 0);
        assert.deepEqual(s.tick(sqlNow(db) + 5), []);
        s.add({ name: "t", queue: "q", schedule: "@every 1s" }); // re-adding keeps it paused
        assert.equal(s.list()[0].enabled, false);
        assert.equal(s.resume("t"), true);
        assert.equal(s.resume("t"), false);
        assert.ok(s.tick(sqlNow(db) + 5).length >= 1);
      }),
    );

    it(
      "update() changes only the given fields; payload null writes JSON null",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "0 * * * *", payload: { a: 1 }, priority: 1 });
        const before = s.list()[0];
        assert.equal(s.update("t", { priority: 9 }), true);
        assert.deepEqual(s.list()[0].payload, { a: 1 });
        assert.equal(s.update("t", { schedule: "30 * * * *" }), true);
        assert.equal(s.list()[0].schedule, "30 * * * *");
        assert.notEqual(s.list()[0].nextFireAt, before.nextFireAt);
        assert.equal(s.update("t", {}), false);
        assert.equal(s.update("missing", { priority: 1 }), false);
        assert.equal(s.update("t", { payload: null }), true);
        assert.equal(
          db.driver.get<{ payload: string }>("SELECT payload FROM _honker_scheduler_tasks")
            ?.payload,
          "null",
        );
        assert.throws(() => s.update("t", { schedule: "* * * * * * *" }), /schedule/);
        assert.equal(s.list()[0].schedule, "30 * * * *");
      }),
    );

    it(
      "refuses bad input before writing anything",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        const bad: Array<[() => unknown, RegExp]> = [
          [() => s.add({ name: "", queue: "q", schedule: "@every 1s" }), /name must not be empty/],
          [() => s.add({ name: "t", queue: "", schedule: "@every 1s" }), /queue must not be empty/],
          [
            () => s.add({ name: "t", queue: "q", schedule: 5 as unknown as string }),
            /schedule must be a cron expression string/,
          ],
          [
            () => s.add({ name: "t", queue: "q", schedule: "61 * * * *" }),
            /minute field "61" is out of range/,
          ],
          [() => s.add({ name: "t", queue: "q", schedule: "@every 0s" }), /interval/],
          [() => s.add({ name: "t", queue: "q", schedule: "0 0 L * *" }), /L/],
          [
            () => s.add({ name: "t", queue: "q", schedule: "@every 1s", maxAttempts: 0 }),
            /maxAttempts must be at least 1/,
          ],
          [() => s.add({ name: "t", queue: "q", schedule: "@every 1s", payload: 1n }), /BigInt/],
          [() => s.tick(1.5), /nowS must be an integer/],
          [() => s.tick(undefined, { onError: 5 as never }), /onError must be a function/],
          [() => s.pause(""), /name must not be empty/],
        ];
        for (const [call, message] of bad) assert.throws(call, message);
        assert.equal(countRows(db, "_honker_scheduler_tasks"), 0);
      }),
    );

    it(
      "extendedSyntax opts in to croner's additions",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "month-end", queue: "q", schedule: "0 0 L * *", extendedSyntax: true });
        const next = s.soonest();
        assert.equal(new Date((next + 86400) * 1000).getDate(), 1); // the day after is the 1st
        assert.equal(s.tick(next).length, 1);
      }),
    );

    it(
      "run() takes the leader lock, ticks, and releases it on abort",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const s = db.scheduler();
        s.add({ name: "fast", queue: "q", schedule: "@every 1s" });
        const stop = new AbortController();
        const run = s.run({ owner: "leader-a", signal: stop.signal });
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(db.tryLock("honker-scheduler", { owner: "someone-else", ttlS: 60 }), null);
        await new Promise((r) => setTimeout(r, 2_100));
        stop.abort();
        await run;
        assert.ok(db.queue("q").stats().pending >= 1);
        const taken = db.tryLock("honker-scheduler", { owner: "someone-else", ttlS: 60 });
        assert.ok(taken, "the lock was not released on abort");
        taken.release();
      }),
    );
  });
}
