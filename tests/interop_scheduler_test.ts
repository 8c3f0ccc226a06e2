// Scheduler interop with honker's real extension: a schedule stored by either side is ticked by
// the other, the same scheduler SQL gives the same results on both, and a honker leader never
// meets a schedule it cannot read (croner's extended syntax lives in honker-ts's own table).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { alignTimes, honkerExtSkip, openHonkerExt } from "./_honker_ext.ts";
import { collect, RUNTIME_COMMANDS } from "./_spawn.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

const HONKER_LEADER = fileURLToPath(new URL("./fixtures/honker_leader.ts", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs honker's extension as the scheduler leader in a Node process for `runMs`. */
async function honkerLeader(path: string, runMs: number) {
  const [node, ...args] = RUNTIME_COMMANDS.node;
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(node, [...args, HONKER_LEADER, path, String(runMs)], { env });
  child.stdin.end();
  const result = await collect(child);
  const lines = result.stdout.split("\n").filter((line) => line !== "");
  return { ...result, lines, fires: lines.filter((l) => l.startsWith("fire ")) };
}

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

describe("honker extension: schedules honker cannot read", () => {
  it(
    "a honker leader on a file with extended-syntax schedules fires its own and does not throw",
    { skip: EXT_SKIP, timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const db = await open(path, { driver: "node-sqlite" });
      try {
        const s = db.scheduler();
        s.add({ name: "a-ext", queue: "ext", schedule: "* * * * * ?", extendedSyntax: true });
        s.add({ name: "b-plain", queue: "plain", schedule: "@every 1s" });
        const extFirst = s.list().find((t) => t.name === "a-ext")?.nextFireAt ?? 0;
        // honker leads for 3 s: it ticks honker's table only, so it never meets "a-ext".
        const honker = await honkerLeader(path, 3_000);
        assert.deepEqual(honker.lines.filter((l) => l.startsWith("error")), [], honker.stderr);
        assert.equal(honker.code, 0, honker.stdout + honker.stderr);
        assert.ok(honker.fires.filter((l) => l.startsWith("fire b-plain ")).length >= 2);
        assert.deepEqual(honker.fires.filter((l) => l.startsWith("fire a-ext ")), []);
        // Then a honker-ts leader: "a-ext" fires, every boundary missed while honker led too.
        const stop = new AbortController();
        const run = s.run({ signal: stop.signal });
        await sleep(2_000);
        stop.abort();
        await run;
        const extNext = s.list().find((t) => t.name === "a-ext")?.nextFireAt ?? 0;
        assert.ok(extNext - extFirst >= 4, `${extNext - extFirst} s of "a-ext" boundaries`);
        assert.equal(db.queue("ext").stats().pending, extNext - extFirst);
        assert.ok(db.queue("plain").stats().pending >= honker.fires.length);
      } finally {
        db.close();
      }
    },
  );

  it("a name honker registers over an extended-syntax schedule takes its place", {
    skip: EXT_SKIP,
  }, async () => {
    const path = tempDbPath();
    const db = await open(path, { driver: "node-sqlite" });
    const ext = await openHonkerExt(path);
    try {
      const s = db.scheduler();
      s.add({ name: "report", queue: "q", schedule: "0 9 * * MON", extendedSyntax: true });
      // A honker process, which knows nothing of honker-ts's table, registers the same name.
      ext.call("SELECT honker_scheduler_register('report', 'q', '0 9 * * 1', 'null', 0, NULL)");
      assert.deepEqual(s.list().map((t) => t.schedule), ["0 9 * * 1"]);
      const due = s.soonest();
      assert.deepEqual(s.tick(due).map((f) => f.name), ["report"]);
      assert.equal(db.driver.get("SELECT 1 FROM _honker_ts_scheduler_tasks"), undefined);
      assert.equal(s.remove("report"), true);
      assert.deepEqual(s.list(), []);
    } finally {
      ext.close();
      db.close();
    }
  });
});
