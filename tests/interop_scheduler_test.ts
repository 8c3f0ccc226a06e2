// Scheduler interop with honker's real extension: a schedule stored by either side is ticked by
// the other, and the same scheduler SQL gives the same results on both.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { alignTimes, honkerExtSkip, openHonkerExt } from "./_honker_ext.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

// One statement per line, run on an extension file and on a file with our SQL functions.
const DIFF_SCRIPT =
  `SELECT honker_scheduler_register('hourly', 'q', '0 * * * *', '{"a":1}', 2, NULL)
SELECT honker_scheduler_register('fast', 'q', '@every 1s', 'null', 0, 60, 5)
SELECT honker_scheduler_list()
SELECT honker_scheduler_pause('fast') AS a, honker_scheduler_pause('fast') AS b
SELECT honker_scheduler_resume('fast') AS a, honker_scheduler_resume('missing') AS b
SELECT honker_scheduler_update('hourly', NULL, '{"b":2}', 7, NULL, 0) AS a
SELECT honker_scheduler_update('hourly', NULL, NULL, NULL, 30, 1, NULL, 1) AS a
SELECT honker_scheduler_update('missing', NULL, NULL, 1, NULL, 0) AS a
SELECT honker_scheduler_list()
SELECT honker_cron_next_after('*/15 * * * *', 1767225600) AS a, honker_cron_next_after('@every 90m', 0) AS b
SELECT honker_scheduler_tick(honker_scheduler_soonest())
SELECT honker_scheduler_tick(honker_scheduler_soonest() + 7200)
SELECT honker_scheduler_unregister('fast') AS a, honker_scheduler_unregister('fast') AS b
SELECT honker_scheduler_list()`.split("\n");

describe("honker extension: scheduler interop", () => {
  it(
    "a schedule stored by honker-ts is ticked by honker, and the reverse",
    { skip: EXT_SKIP },
    async () => {
      const path = tempDbPath();
      const db = await open(path, { driver: "node-sqlite" });
      const ext = await openHonkerExt(path);
      try {
        db.scheduler().add({
          name: "ours",
          queue: "q",
          schedule: "0 * * * *",
          payload: { from: "ts" },
          maxAttempts: 4,
        });
        ext.call(
          "SELECT honker_scheduler_register('theirs', 'q', '*/30 * * * *', '{\"from\":\"ext\"}', 1, NULL, 2)",
        );
        const ours = db.scheduler().list().find((t) => t.name === "ours");
        const theirs = db.scheduler().list().find((t) => t.name === "theirs");
        assert.equal(
          ours?.nextFireAt,
          ext.call("SELECT honker_cron_next_after('0 * * * *', unixepoch())"),
        );
        assert.deepEqual(theirs?.payload, { from: "ext" });
        // honker ticks our schedule; we tick theirs.
        const extFires = ext.json<Array<{ name: string; fire_at: number }>>(
          "SELECT honker_scheduler_tick(?)",
          [ours?.nextFireAt ?? 0],
        );
        assert.ok(extFires.some((f) => f.name === "ours" && f.fire_at === ours?.nextFireAt));
        const ourFires = db.scheduler().tick((theirs?.nextFireAt ?? 0) + 3600);
        assert.ok(ourFires.some((f) => f.name === "theirs"));
        const jobs = db.queue("q").claimBatch("w", 100);
        assert.ok(
          jobs.some((j) => (j.payload as { from: string }).from === "ts" && j.maxAttempts === 4),
        );
        assert.ok(
          jobs.some((j) => (j.payload as { from: string }).from === "ext" && j.maxAttempts === 2),
        );
      } finally {
        ext.close();
        db.close();
      }
    },
  );

  it("the same scheduler SQL gives the same results on honker and on our SQL functions", {
    skip: EXT_SKIP,
  }, async () => {
    const ext = await openHonkerExt(tempDbPath());
    const db = await open(tempDbPath(), { driver: "node-sqlite" });
    try {
      for (const sql of DIFF_SCRIPT) {
        const theirs = ext.rows(sql)[0];
        const ours = { ...db.driver.get(sql) };
        const parse = (row: Record<string, unknown>) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => {
              if (typeof v !== "string" || !v.startsWith("[")) return [k, v];
              // Fire order follows table order on both sides; compare as sets of rows.
              const list = JSON.parse(v) as Array<Record<string, unknown>>;
              return [k, list.map((x) => JSON.stringify(x)).sort()];
            }),
          );
        assert.deepEqual(alignTimes(parse(ours), parse(theirs)), parse(theirs), sql);
      }
      const table = "SELECT * FROM _honker_live ORDER BY id";
      assert.deepEqual(
        alignTimes(db.driver.all(table).map((r) => ({ ...r })), ext.rows(table)),
        ext.rows(table),
      );
    } finally {
      ext.close();
      db.close();
    }
  });
});
