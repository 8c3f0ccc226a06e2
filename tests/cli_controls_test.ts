// The queue-control commands of `honker-ts` (issue #19), run as child processes of the runtime
// under test on real files: `jobs --state` with scheduled and all, `pause`/`resume` doing what
// the API does (a resume wakes a worker of another process at once), and `events`, read once or
// followed, with and without honker-ts's job events table.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { openNodeSqlite } from "../adapters/node_sqlite.ts";
import { openDriver } from "../adapters/auto.ts";
import { removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { exited, LineReader } from "./_spawn.ts";
import { cli, cliJson, seed, startCli, stderrOf } from "./_cli.ts";

after(removeTempDirs);

/** The columns of `_honker_ts_job_events` as honker-ts creates them (the events feature). */
const EVENTS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_job_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT,
    attempt INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
  )`;
const EVENT_INSERT = "INSERT INTO _honker_ts_job_events (queue, job_id, type, data, attempt) " +
  "VALUES (?, ?, ?, ?, ?)";

/** Opens `path` with honker-ts, ensures the events table, runs `body`, closes. */
async function withEvents<T>(path: string, body: (db: Database) => T): Promise<T> {
  const db = await open(path);
  try {
    db.driver.exec(EVENTS_TABLE_DDL);
    return body(db);
  } finally {
    db.close();
  }
}

/** Removes the events table and any trigger that writes to it: a file from before events. */
async function dropEvents(path: string): Promise<void> {
  const driver = await openDriver(path);
  try {
    const triggers = driver.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE ?",
      ["%_honker_ts_job_events%"],
    );
    for (const { name } of triggers) driver.exec(`DROP TRIGGER "${name}"`);
    driver.exec("DROP TABLE IF EXISTS _honker_ts_job_events");
  } finally {
    driver.close();
  }
}

async function tableExists(path: string, name: string): Promise<boolean> {
  const driver = await openNodeSqlite(path, { readOnly: true });
  try {
    return driver.get("SELECT 1 AS found FROM sqlite_master WHERE name = ?", [name]) !== undefined;
  } finally {
    driver.close();
  }
}

describe("honker-ts CLI queue controls", () => {
  it("jobs --state lists pending (due), scheduled, processing, dead or all; refuses others", async () => {
    const path = tempDbPath();
    const s = await seed("honker-ts", path);
    const ids = async (state: string) =>
      (await cliJson<Array<{ id: number }>>(["jobs", path, "emails", "--state", state])).map((j) =>
        j.id
      );
    assert.deepEqual(await ids("pending"), [s.pending]);
    assert.deepEqual(await ids("scheduled"), [s.scheduled]);
    assert.deepEqual(await ids("processing"), [s.processing]);
    assert.deepEqual(await ids("dead"), [s.dead]);
    assert.deepEqual(await ids("all"), [s.processing, s.pending, s.scheduled, s.dead]);
    const human = await cli(["jobs", path, "emails", "--state", "scheduled"]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^\s*\d+\s+pending\s+0\s+0\/3\s+in /m);
    const bad = await cli(["jobs", path, "emails", "--state", "waiting"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--state must be pending, scheduled, processing, dead or all/);
  });

  it("pause and resume do what queue.pause()/resume() do; resume wakes another process's worker", async () => {
    const path = tempDbPath();
    await seed("honker-ts", path);
    const paused = await cli(["pause", path, "thumbs"]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(paused.stdout, 'Paused queue "thumbs"\n');
    assert.deepEqual(await cliJson(["pause", path, "thumbs"]), {
      queue: "thumbs",
      paused: true,
      changed: false,
    });
    const db = await open(path);
    const stop = new AbortController();
    try {
      const thumbs = db.queue("thumbs");
      assert.equal(thumbs.isPaused(), true);
      assert.equal(db.queue("emails").isPaused(), false);
      let handledAt = 0;
      const done = thumbs.work(() => void (handledAt = Date.now()), {
        signal: stop.signal,
        idlePollMs: 60_000,
      });
      await sleep(200);
      assert.equal(handledAt, 0, "nothing claimed while paused");
      const resumed = await cli(["resume", path, "thumbs"]);
      const exitedAt = Date.now();
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(resumed.stdout, 'Resumed queue "thumbs"\n');
      for (let i = 0; i < 400 && handledAt === 0; i++) await sleep(5);
      assert.ok(handledAt > 0, "the worker took the job after resume");
      assert.ok(handledAt - exitedAt < 1500, `woke ${handledAt - exitedAt} ms after the CLI`);
      const again = await cli(["resume", path, "thumbs"]);
      assert.equal(again.stdout, 'Queue "thumbs" was not paused\n');
      stop.abort();
      await done;
    } finally {
      stop.abort();
      db.close();
    }
    const usage = await cli(["pause", path]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Missing argument: QUEUE/);
  });

  it("events says clearly when the file has no events table, read once or followed", async () => {
    const path = tempDbPath();
    await seed("honker-ts", path);
    await dropEvents(path);
    for (const args of [["events", path, "emails"], ["events", path, "emails", "--follow"]]) {
      const result = await cli(args);
      assert.equal(result.code, 1, args.join(" "));
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /has no job events table \(_honker_ts_job_events\)/);
    }
    assert.equal(
      await tableExists(path, "_honker_ts_job_events"),
      false,
      "the CLI created nothing",
    );
  });

  it("events prints a queue's events after --since, as lines or NDJSON", async () => {
    const path = tempDbPath();
    await seed("honker-ts", path);
    const ids = await withEvents(path, (db) => {
      db.driver.run("DELETE FROM _honker_ts_job_events");
      return [
        db.driver.run(EVENT_INSERT, ["emails", 7, "enqueued", '{"priority":0}', 0]),
        db.driver.run(EVENT_INSERT, ["thumbs", 8, "enqueued", null, 0]),
        db.driver.run(EVENT_INSERT, ["emails", 7, "failed", '{"error":"SMTP 550"}', 1]),
      ].map((r) => r.lastInsertRowid);
    });
    const human = await cli(["events", path, "emails"]);
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(
      lines[0],
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d  #${ids[0]}  job 7  enqueued  attempt 0  \\{"priority":0\\}$`,
      ),
    );
    assert.match(lines[1], / {2}job 7 {2}failed {2}attempt 1 {2}\{"error":"SMTP 550"\}$/);
    const json = await cli(["events", path, "emails", "--since", String(ids[0]), "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const [event, ...rest] = json.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(rest, []);
    assert.deepEqual(event, {
      id: ids[2],
      queue: "emails",
      jobId: 7,
      type: "failed",
      data: { error: "SMTP 550" },
      attempt: 1,
      createdAt: event.createdAt,
    });
    const none = await cli(["events", path, "nobody"]);
    assert.deepEqual([none.code, none.stdout], [0, ""]);
    const bad = await cli(["events", path, "emails", "--since", "-1"]);
    assert.equal(bad.code, 2);
  });

  it("events --follow prints each new event of its queue as another process commits it", async () => {
    const path = tempDbPath();
    await seed("honker-ts", path);
    const old = await withEvents(
      path,
      (db) => db.driver.run(EVENT_INSERT, ["emails", 1, "enqueued", null, 0]).lastInsertRowid,
    );
    const child = startCli(["events", path, "emails", "--follow", "--json"]);
    child.stdin.end();
    const out = new LineReader(child);
    const err = stderrOf(child);
    try {
      await err(new RegExp(`following the events of queue "emails" after #${old}`));
      const id = await withEvents(path, (db) => {
        db.driver.run(EVENT_INSERT, ["thumbs", 2, "enqueued", null, 0]);
        return db.driver.run(EVENT_INSERT, ["emails", 3, "active", null, 1]).lastInsertRowid;
      });
      const line = await out.waitFor(/"type":"active"/, 20_000);
      assert.equal(JSON.parse(line).id, id);
      assert.equal(out.lines.length, 1, "only the new event of this queue");
    } finally {
      process.kill(child.pid as number, "SIGTERM");
      assert.equal(await exited(child), 0);
    }
  });
});
