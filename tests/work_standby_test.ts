// Standby (issue #16): a work() run whose wakes for other connections' commits keep finding
// nothing, one after another, stops looking at every commit and looks at most once per poll of
// the WAL index header; a job still reaches it, from another connection or from its own
// process, and it goes back to waiting for commits once they stop or once it keeps finding jobs.
// Across real processes: when the worker the others left the jobs to is SIGKILLed, they take
// every job after it, each once (a look that raced another claimer is also retried after 5 ms,
// so that test shows the takeover and exactly-once; the in-process one shows the poll itself).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, open } from "../mod.ts";
import {
  Standby,
  STANDBY_AFTER_WASTED_WAKES,
  STANDBY_QUIET_POLLS,
  STANDBY_WASTED_GAP_MS,
  STANDBY_WINS,
} from "../core/queue/work_standby.ts";
import { driverMatrix } from "./_drivers.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { statementLog } from "./_statement_log.ts";
import { exited, LineReader, spawnScript } from "./_spawn.ts";

const WORKER = new URL("./fixtures/herd_worker.ts", import.meta.url).pathname;

/** `n` wasted wakes, `gapMs` apart from `startMs`; returns the time of the last. */
function wasteWakes(standby: Standby, n: number, gapMs: number, startMs = 0): number {
  let at = startMs;
  for (let i = 0; i < n; i++) standby.claimed(0, at += gapMs);
  return at;
}

/** A Standby that went on standby. */
function onStandby(): Standby {
  const standby = new Standby();
  wasteWakes(standby, STANDBY_AFTER_WASTED_WAKES, 0.5);
  assert.equal(standby.on, true);
  return standby;
}

describe("Standby: when a work() run stops answering every commit", () => {
  it("goes on standby after STANDBY_AFTER_WASTED_WAKES wasted wakes in quick succession", () => {
    const standby = new Standby();
    const at = wasteWakes(standby, STANDBY_AFTER_WASTED_WAKES - 1, 0.5);
    assert.equal(standby.on, false);
    standby.claimed(0, at + 0.5);
    assert.equal(standby.on, true);
  });

  it("stays awake when wasted wakes come further apart than STANDBY_WASTED_GAP_MS", () => {
    const standby = new Standby();
    wasteWakes(standby, 50, STANDBY_WASTED_GAP_MS * 5);
    assert.equal(standby.on, false);
  });

  it("a wake that found a job starts the count again", () => {
    const standby = new Standby();
    const at = wasteWakes(standby, STANDBY_AFTER_WASTED_WAKES - 1, 0.5);
    standby.claimed(1, at + 0.5);
    wasteWakes(standby, STANDBY_AFTER_WASTED_WAKES - 1, 0.5, at + 0.5);
    assert.equal(standby.on, false);
  });

  it("comes back after STANDBY_QUIET_POLLS polls in a row saw no commit", () => {
    const standby = onStandby();
    for (let i = 0; i < STANDBY_QUIET_POLLS - 1; i++) standby.polled(false);
    standby.polled(true); // a commit starts the count again
    for (let i = 0; i < STANDBY_QUIET_POLLS - 1; i++) standby.polled(false);
    assert.equal(standby.on, true);
    standby.polled(false);
    assert.equal(standby.on, false);
  });

  it("comes back after STANDBY_WINS claims in a row took jobs, and a miss between resets", () => {
    const standby = onStandby();
    for (let i = 0; i < STANDBY_WINS - 1; i++) standby.claimed(1, 100 + i);
    standby.claimed(0, 200);
    for (let i = 0; i < STANDBY_WINS - 1; i++) standby.claimed(2, 300 + i);
    assert.equal(standby.on, true);
    standby.claimed(1, 400);
    assert.equal(standby.on, false);
    // Back awake, it takes a fresh run of wasted wakes to go on standby again.
    standby.claimed(0, 401);
    assert.equal(standby.on, false);
  });
});

for (const entry of driverMatrix()) {
  describe(`${entry.id}: work() on standby while another connection commits all the time`, () => {
    it(
      "looks far less often than the other connection commits, and still runs every job",
      { skip: entry.skip, timeout: 30_000 },
      async () => {
        const path = tempDbPath();
        const driver = statementLog(await entry.open(path));
        const otherDriver = await entry.open(path);
        const db = fromDriver(driver);
        const other = fromDriver(otherDriver);
        const handled: string[] = [];
        const stop = new AbortController();
        const run = db.queue<string>("jobs").work((job) => void handled.push(job.payload), {
          idlePollMs: null,
          signal: stop.signal,
        });
        const isLook = (s: { sql: string; params: readonly unknown[] }) =>
          s.sql.includes("claimable") && s.params[0] === "jobs";
        try {
          await sleep(200);
          assert.equal(db.wakeSource, "fs", "this test needs file-system events");
          // The other connection commits to another queue, once per turn of the event loop:
          // every commit wakes the worker, and none brings it a job.
          const flooding = { on: true, commits: 0 };
          const flood = (async () => {
            while (flooding.on) {
              other.queue("other").enqueue(flooding.commits++);
              await new Promise((resolve) => setImmediate(resolve));
            }
          })();
          try {
            await sleep(100); // long enough to go on standby
            const from = driver.log.length;
            const commitsFrom = flooding.commits;
            await sleep(400);
            const looks = driver.log.slice(from).filter(isLook).length;
            const commits = flooding.commits - commitsFrom;
            // Measured before standby: about one look per commit the worker was woken for.
            // On standby: at most one per poll (1 ms on Node and Bun, about 2 on Deno).
            assert.ok(commits >= 400, `the other connection committed only ${commits} times`);
            assert.ok(looks * 4 < commits, `${looks} looks for ${commits} commits`);
            // A job from the other connection and one from this process, on standby.
            other.queue<string>("jobs").enqueue("theirs");
            await eventually(() => handled.includes("theirs"), 5000, "the other connection's job");
            db.queue<string>("jobs").enqueue("ours");
            await eventually(() => handled.includes("ours"), 5000, "this process's job");
          } finally {
            flooding.on = false;
            await flood;
          }
          // The commits stopped: a job from the other connection still reaches the worker.
          await sleep(100);
          other.queue<string>("jobs").enqueue("after");
          await eventually(() => handled.includes("after"), 5000, "the job after the flood");
          assert.deepEqual(handled, ["theirs", "ours", "after"]);
        } finally {
          stop.abort();
          await run;
          db.close();
          other.close();
          driver.close();
          otherDriver.close();
        }
      },
    );
  });
}

describe("worker processes on standby when the one taking the jobs is killed", () => {
  it(
    "the others take every job enqueued after the SIGKILL, each once",
    { timeout: 90_000 },
    async () => {
      const path = tempDbPath();
      const db = await open(path);
      const jobs = db.queue<number>("jobs");
      const children = Array.from({ length: 3 }, () => spawnScript(WORKER, [path, "8", "each"]));
      const readers = children.map((child) => new LineReader(child));
      const ran = (i: number) =>
        readers[i].lines.filter((l) => l.startsWith('{"job"')).map((l) => JSON.parse(l).job);
      try {
        await Promise.all(readers.map((r) => r.waitFor(/ready/, 20_000)));
        await sleep(300);
        const total = 600;
        let killed = -1;
        for (let i = 0; i < total; i++) {
          if (i === total / 2) {
            // The worker that ran the most is the one the others had left the jobs to.
            const counts = readers.map((_, w) => ran(w).length);
            killed = counts.indexOf(Math.max(...counts));
            children[killed].kill("SIGKILL");
            await exited(children[killed]);
          }
          jobs.enqueue(i);
          if (i % 2 === 1) await sleep(1); // about 1,000 jobs/s
        }
        const survivors = [0, 1, 2].filter((w) => w !== killed);
        const afterKill = () => survivors.flatMap(ran).filter((job) => job >= total / 2);
        await eventually(
          () => afterKill().length >= total / 2,
          20_000,
          "every job enqueued after the kill run by the others",
        );
        await sleep(200); // a job run twice would show up by now
        const bySurvivors = survivors.flatMap(ran);
        assert.equal(new Set(bySurvivors).size, bySurvivors.length, "a job ran twice");
        assert.equal(afterKill().length, total / 2);
        assert.equal(jobs.stats().pending, 0);
      } finally {
        for (const child of children) {
          if (child.exitCode === null && child.signalCode === null) child.stdin.write("stop\n");
          child.stdin.end();
        }
        await Promise.all(children.map((child) => exited(child)));
        db.close();
      }
    },
  );
});
