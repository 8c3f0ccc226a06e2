// Schedules honker itself cannot read, on every driver: croner's extended syntax lives in
// honker-ts's own table (honker's tick never meets it), and a schedule nobody can read is
// reported, never skipped without a word, while the others keep firing.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, UnreadableScheduleError } from "../mod.ts";
import type { Database, Fire } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import { tempDbPath } from "./_helpers.ts";

const HONKER = "_honker_scheduler_tasks";
const OURS = "_honker_ts_scheduler_tasks";
const MONTH_END = "0 0 L * *"; // croner's L: honker refuses it
const HOUR = 3600;

/** A row as a writer that is not honker-ts (a person, a newer honker) would insert it. */
const INSERT_RAW = (table: string) =>
  `INSERT INTO ${table} (name, queue, cron_expr, payload, priority, expires_s, next_fire_at)
   VALUES (?, 'q', ?, 'null', 0, NULL, ?)`;

/** The tables holding a row named `name`. */
const tableOf = (db: Database, name: string) =>
  [HONKER, OURS].filter((t) => db.driver.get(`SELECT 1 FROM ${t} WHERE name = ?`, [name]));

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: Scheduler with schedules honker cannot read`, () => {
    it(
      "an extended-syntax schedule is stored where honker's tick does not look, and fires",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "month-end", queue: "q", schedule: MONTH_END, extendedSyntax: true });
        s.add({ name: "hourly", queue: "q", schedule: "0 * * * *", extendedSyntax: true });
        assert.deepEqual(tableOf(db, "month-end"), [OURS]);
        assert.deepEqual(tableOf(db, "hourly"), [HONKER], "honker's syntax stays in its table");
        const next = s.list().find((t) => t.name === "month-end")?.nextFireAt ?? 0;
        assert.equal(new Date((next + 86400) * 1000).getDate(), 1);
        const fires = s.tick(next);
        assert.ok(fires.some((f) => f.name === "month-end" && f.fireAt === next));
        assert.ok(s.list().every((t) => t.nextFireAt > next));
      }),
    );

    it(
      "list(), pause(), resume(), update(), remove() and soonest() cover both tables",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "a-plain", queue: "q", schedule: "@every 1h" });
        s.add({ name: "b-ext", queue: "q", schedule: "@hourly", extendedSyntax: true });
        assert.deepEqual(s.list().map((t) => [t.name, t.schedule]), [
          ["a-plain", "@every 1h"],
          ["b-ext", "@hourly"],
        ]);
        const ext = () => s.list().find((t) => t.name === "b-ext");
        assert.equal(s.soonest(), Math.min(...s.list().map((t) => t.nextFireAt)));
        assert.equal(s.pause("b-ext"), true);
        assert.equal(ext()?.enabled, false);
        assert.equal(s.soonest(), s.list()[0].nextFireAt, "a paused schedule is not the soonest");
        assert.equal(s.resume("b-ext"), true);
        assert.equal(s.update("b-ext", { priority: 4, payload: { x: 1 } }), true);
        assert.deepEqual([ext()?.priority, ext()?.payload], [4, { x: 1 }]);
        assert.equal(s.remove("b-ext"), true);
        assert.equal(s.remove("b-ext"), false);
        assert.deepEqual(s.list().map((t) => t.name), ["a-plain"]);
        assert.equal(countRows(db, OURS), 0);
      }),
    );

    it(
      "a schedule moves between the tables when it starts or stops needing extended syntax",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "0 9 * * *", payload: { k: 1 }, priority: 2 });
        s.pause("t");
        assert.equal(
          s.update("t", { schedule: "0 9 * * MON", extendedSyntax: true, maxAttempts: 5 }),
          true,
        );
        assert.deepEqual(tableOf(db, "t"), [OURS]);
        const moved = s.list()[0];
        assert.deepEqual(
          [moved.schedule, moved.payload, moved.priority, moved.enabled, moved.maxAttempts],
          ["0 9 * * MON", { k: 1 }, 2, false, 5],
        );
        assert.equal(s.update("t", { schedule: "0 9 * * 1" }), true);
        assert.deepEqual(tableOf(db, "t"), [HONKER]);
        assert.equal(s.list()[0].enabled, false, "still paused after moving back");
        // add() keeps one row per name across both tables too.
        s.add({ name: "t", queue: "q", schedule: "0 9 * * MON", extendedSyntax: true });
        assert.deepEqual(tableOf(db, "t"), [OURS]);
        s.add({ name: "t", queue: "q", schedule: "0 9 * * 1" });
        assert.deepEqual(tableOf(db, "t"), [HONKER]);
        assert.equal(s.list().length, 1);
      }),
    );

    it(
      "refuses extended syntax without extendedSyntax before writing, in add() and update()",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        s.add({ name: "t", queue: "q", schedule: "0 9 * * 1" });
        assert.throws(() => s.add({ name: "u", queue: "q", schedule: MONTH_END }), TypeError);
        assert.throws(() => s.update("t", { schedule: MONTH_END }), TypeError);
        assert.deepEqual(tableOf(db, "t"), [HONKER]);
        assert.equal(countRows(db, OURS), 0);
      }),
    );

    it(
      "a schedule honker-ts cannot read is reported by tick() and list(); the others fire",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        const now = sqlNow(db);
        // "@every 1w" stands for syntax of a newer honker; "0 0 31 2 *" never matches.
        db.driver.run(INSERT_RAW(HONKER), ["a-newer", "@every 1w", now - 10]);
        s.add({ name: "b-good", queue: "q", schedule: "@every 1s" });
        db.driver.run(`UPDATE ${HONKER} SET next_fire_at = ? WHERE name = 'b-good'`, [now + 1]);
        db.driver.run(INSERT_RAW(OURS), ["c-never", "0 0 31 2 *", now - 5]);
        const reported: UnreadableScheduleError[] = [];
        const fires = s.tick(now + 1, { onError: (e) => reported.push(e) });
        assert.deepEqual(fires.map((f) => f.name), ["b-good"]);
        assert.deepEqual(reported.map((e) => [e.taskName, e.schedule]), [
          ["a-newer", "@every 1w"],
          ["c-never", "0 0 31 2 *"],
        ]);
        assert.ok(reported.every((e) => e instanceof UnreadableScheduleError));
        assert.match(reported[0].message, /^Cannot fire schedule "a-newer": .*@every 1w/);
        // Without onError, tick() throws once the others' fires are committed.
        let thrown: unknown;
        try {
          s.tick(now + 2);
        } catch (error) {
          thrown = error;
        }
        assert.ok(thrown instanceof UnreadableScheduleError, String(thrown));
        assert.match(thrown.message, /"a-newer".*and 1 more \("c-never"\)/s);
        assert.equal(db.queue("q").stats().pending, 2, "b-good fired at now + 1 and now + 2");
        const listed = s.list();
        assert.deepEqual(listed.map((t) => [t.name, t.error !== undefined]), [
          ["a-newer", true],
          ["b-good", false],
          ["c-never", true],
        ]);
        assert.equal(s.soonest(), listed[1].nextFireAt, "soonest() skips what cannot fire");
      }),
    );

    it(
      "run() reports an unreadable schedule once through onError and keeps firing the others",
      { skip, timeout: 20_000 },
      withDb(entry, async (db) => {
        const s = db.scheduler();
        db.driver.run(INSERT_RAW(HONKER), ["broken", "not a schedule", sqlNow(db) - 60]);
        s.add({ name: "fast", queue: "q", schedule: "@every 1s" });
        const reported: string[] = [];
        const fires: Fire[] = [];
        // run() ticks through this internal method (a background write).
        const tick = s.tickInBackground.bind(s);
        let ticks = 0;
        s.tickInBackground = (...args: Parameters<typeof s.tickInBackground>) => {
          ticks++;
          const fired = tick(...args);
          fires.push(...fired);
          return fired;
        };
        const stop = new AbortController();
        const run = s.run({
          signal: stop.signal,
          onError: (error) => reported.push(error.taskName),
        });
        await new Promise((r) => setTimeout(r, 3_200));
        stop.abort();
        await run;
        assert.deepEqual(reported, ["broken"]);
        assert.ok(fires.filter((f) => f.name === "fast").length >= 2, `${fires.length} fires`);
        assert.ok(ticks <= 10, `the leader ticked ${ticks} times in 3 s: it spins on the task`);
      }),
    );

    it("a file whose honker table holds extended syntax (older honker-ts) is repaired at open", {
      skip,
    }, async () => {
      const path = tempDbPath();
      const firstDriver = await entry.open(path);
      const first = fromDriver(firstDriver);
      const due = sqlNow(first) - HOUR;
      first.driver.run(INSERT_RAW(HONKER), ["month-end", MONTH_END, due]);
      first.driver.run(`UPDATE ${HONKER} SET enabled = 0, priority = 3`);
      first.close();
      firstDriver.close();
      const driver = await entry.open(path);
      const db = fromDriver(driver);
      try {
        assert.deepEqual(tableOf(db, "month-end"), [OURS]);
        const [task] = db.scheduler().list();
        assert.deepEqual([task.nextFireAt, task.enabled, task.priority], [due, false, 3]);
      } finally {
        db.close();
        driver.close();
      }
    });
  });
}
