// work()'s one fetcher (issue #16): outcomes of handlers that finish together commit in one
// transaction with the next claim, a worker is not woken by its own process's claims and acks,
// and an outcome not yet committed when the process dies is not lost (the job runs again), nor
// recorded: no result, no completed or failed event, until the run that commits it.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { collect, spawnScript } from "./_spawn.ts";
import { withLoggedDb } from "./_db.ts";

const CHILD = new URL("./fixtures/unflushed_ack_child.ts", import.meta.url).pathname;
const BATCH_CHILD = new URL("./fixtures/unflushed_batch_child.ts", import.meta.url).pathname;

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: work() batches its writes`, () => {
    it(
      "handlers that finish together are acked in one commit, not one each",
      { skip, timeout: 30_000 },
      withLoggedDb(entry, async (db, driver) => {
        const q = db.queue<number>("jobs");
        q.enqueueMany(Array.from({ length: 64 }, (_, i) => i));
        driver.log.length = 0;
        const stop = new AbortController();
        let handled = 0;
        const result = await q.work(async () => {
          await Promise.resolve(); // an async handler, as applications write them
          if (++handled === 64) setTimeout(() => stop.abort(), 50);
        }, { concurrency: 32, signal: stop.signal });
        assert.equal(result.acked, 64);
        assert.equal(q.stats().processing + q.stats().pending, 0);
        const commits = driver.log.filter((s) => s.sql === "COMMIT").length;
        const acks = driver.log.filter((s) => s.sql.startsWith("DELETE FROM _honker_live"));
        // 64 acks in two batches of 32 (plus the last claim): a handful of commits and ack
        // statements, against 64 autocommit acks when every ack was its own write. Each is
        // fenced by the worker's id and an unexpired claim.
        assert.ok(commits <= 6, `expected a few commits for 64 acks, got ${commits}`);
        assert.ok(
          acks.length <= 6,
          `expected a few ack statements for 64 acks, got ${acks.length}`,
        );
        for (const ack of acks) assert.match(ack.sql, /worker_id = \?.*claim_expires_at >= /s);
        const perJob = driver.log.length / 64;
        assert.ok(perJob < 1, `expected under 1 statement per job, got ${perJob.toFixed(2)}`);
      }),
    );

    it(
      "in a batch of acks, a job whose claim was taken over is lost and the others are acked",
      { skip, timeout: 30_000 },
      withLoggedDb(entry, async (db) => {
        const q = db.queue<number>("jobs");
        const ids = q.enqueueMany(Array.from({ length: 8 }, (_, i) => i));
        let release = () => {};
        const released = new Promise<void>((resolve) => (release = resolve));
        let started = 0;
        const stop = new AbortController();
        const run = q.work(async () => {
          started++;
          await released;
        }, { concurrency: 8, signal: stop.signal });
        await eventually(() => started === 8, 5000, "8 handlers started");
        // Another worker takes job 3 over (its claim expired and was claimed again, say).
        db.driver.run("UPDATE _honker_live SET worker_id = 'thief' WHERE id = ?", [ids[3]]);
        release(); // the 8 handlers finish in one turn: their acks share one statement
        await eventually(() => q.stats().processing === 1, 5000, "the 7 acks");
        stop.abort();
        assert.deepEqual(await run, { acked: 7, retried: 0, dead: 0, lost: 1 });
        assert.equal(q.getJob(ids[3])?.state, "processing", "the thief's claim stands");
      }),
    );

    it(
      "a worker whose claim took the last due job acks it alone: no look, no transaction",
      { skip, timeout: 30_000 },
      withLoggedDb(entry, async (db, driver) => {
        const q = db.queue<number>("jobs");
        const stop = new AbortController();
        let handled = 0;
        const run = q.work(async () => {
          await Promise.resolve();
          handled++;
        }, { concurrency: 1, signal: stop.signal });
        await sleep(50);
        driver.log.length = 0;
        // Jobs one at a time, as an idle service gets them: each claim takes the only one due.
        for (let i = 0; i < 20; i++) {
          q.enqueue(i);
          await eventually(() => handled === i + 1 && q.stats().processing === 0, 5000, "ack");
        }
        stop.abort();
        await run;
        const transactions = driver.log.filter((s) => s.sql === "BEGIN IMMEDIATE").length;
        // The look before each claim saw no row past it, so the ack needs no look of its own
        // (one autocommit DELETE, where ack and look took BEGIN, DELETE, SELECT, COMMIT).
        assert.equal(transactions, 0, `${transactions} transactions for 20 lone acks`);
        const acks = driver.log.filter((s) => s.sql.startsWith("DELETE FROM _honker_live"));
        assert.equal(acks.length, 20);
      }),
    );

    it(
      "handlers that finish together with nothing more due are acked in one statement, no transaction",
      { skip, timeout: 30_000 },
      withLoggedDb(entry, async (db, driver) => {
        const q = db.queue<number>("jobs");
        const stop = new AbortController();
        let release = () => {};
        const released = new Promise<void>((resolve) => (release = resolve));
        let started = 0;
        let handled = 0;
        const run = q.work(async () => {
          started++;
          await released;
          handled++;
        }, { concurrency: 4, signal: stop.signal });
        await sleep(50);
        // Four jobs for four slots: the look before the claim sees no row past them, so once
        // the handlers finish nothing is due and the acks have no claim to join.
        q.enqueueMany([1, 2, 3, 4]);
        await eventually(() => started === 4, 5000, "4 handlers started");
        driver.log.length = 0;
        release(); // the 4 handlers finish in one turn
        await eventually(() => handled === 4 && q.stats().processing === 0, 5000, "4 acks");
        // The writes (a connection the application shares also sets its busy timeout around them).
        const written = driver.log.filter((s) => !/^(SELECT|PRAGMA)/.test(s.sql));
        stop.abort();
        assert.deepEqual(await run, { acked: 4, retried: 0, dead: 0, lost: 0 });
        // One autocommit DELETE, where BEGIN, DELETE and COMMIT took three statements.
        assert.deepEqual(
          written.map((s) => s.sql.split(/\s+/).slice(0, 3).join(" ")),
          ["DELETE FROM _honker_live"],
        );
      }),
    );

    it(
      "an idle worker is not woken by its own process's claims and acks on another queue",
      { skip, timeout: 30_000 },
      withLoggedDb(entry, async (db, driver) => {
        const idle = db.queue<number>("idle");
        const busy = db.queue<number>("busy");
        const stop = new AbortController();
        const idleRun = idle.work(() => {}, { idlePollMs: null, signal: stop.signal });
        await sleep(50);
        const looksAtIdle = () =>
          driver.log.filter((s) => s.sql.startsWith("SELECT") && s.params[0] === "idle")
            .length;
        const before = looksAtIdle();
        let handled = 0;
        const busyRun = busy.work(() => void handled++, { signal: stop.signal });
        for (let i = 0; i < 40; i++) {
          busy.enqueue(i);
          await eventually(() => handled === i + 1, 5000, "the busy queue's job");
        }
        // The 40 enqueues may each wake the idle worker (an enqueue can make a job claimable:
        // the waker does not know of which queue); the 40 claims and 40 acks must not.
        const looks = looksAtIdle() - before;
        assert.ok(looks <= 60, `the idle queue was looked at ${looks} times for 40 enqueues`);
        stop.abort();
        await Promise.all([idleRun, busyRun]);
      }),
    );
  });
}

describe("work() and close()", () => {
  it("work() resolves once the database is closed under it, idle or with a job in hand", {
    timeout: 30_000,
  }, async () => {
    for (const withJob of [false, true]) {
      const db = await open(tempDbPath());
      const q = db.queue<number>("jobs");
      if (withJob) q.enqueue(1);
      let release = () => {};
      const running = q.work(() => new Promise<void>((resolve) => (release = resolve)));
      await sleep(100);
      db.close();
      release();
      const outcome = await Promise.race([running, sleep(5000).then(() => "still running")]);
      assert.notEqual(outcome, "still running", `withJob=${withJob}`);
    }
  });
});

describe("an outcome not yet committed when the process dies", () => {
  it(
    "a job whose handler returned but whose ack was not committed runs again after SIGKILL",
    { timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const first = await collect(spawnScript(CHILD, ["kill-after", path, "3"]));
      assert.equal(first.signal, "SIGKILL", `${first.code} ${first.stderr}`);
      const handledFirst = first.stdout.trim().split("\n").filter((l) => l.startsWith("handled"));
      assert.equal(handledFirst.length, 3, first.stdout);
      // The third job's handler returned, its ack waited for the next turn: killed before it.
      const second = await collect(spawnScript(CHILD, ["drain", path]));
      assert.equal(second.code, 0, second.stderr);
      const rerun = JSON.parse(second.stdout.trim().split("\n").at(-1)!) as {
        handled: Array<[number, number]>;
        dead: number;
      };
      const third = Number(handledFirst[2].split(" ")[1]);
      const again = rerun.handled.find(([id]) => id === third);
      assert.ok(again, `job ${third} (handled, not committed) must run again: ${second.stdout}`);
      assert.equal(again[1], 2, "it is its second attempt");
      assert.equal(rerun.dead, 0);
      // Jobs 1 and 2 were acked in earlier turns and committed: they do not run again.
      for (const line of handledFirst.slice(0, 2)) {
        const id = Number(line.split(" ")[1]);
        assert.ok(!rerun.handled.some(([h]) => h === id), `job ${id} was acked before the kill`);
      }
    },
  );
});

type Ran = [id: number, n: number, attempt: number, outcome: string];
type EventRow = { job_id: number; type: string; attempt: number; data: string | null };

/** The file's events and results, per job: what committed. */
async function committed(path: string) {
  const db = await open(path);
  try {
    const events = db.driver.all<EventRow>(
      "SELECT job_id, type, attempt, data FROM _honker_ts_job_events WHERE queue = 'jobs' " +
        "AND type IN ('completed', 'failed', 'retried', 'dead') ORDER BY id",
    ).map((r) => ({ ...r }));
    const results = new Map(
      db.driver.all<{ job_id: number; value: string }>(
        "SELECT job_id, value FROM _honker_results",
      ).map((r) => [r.job_id, JSON.parse(r.value) as { n: number; attempt: number }]),
    );
    const live = db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live")!.n;
    const dead = db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_dead")!.n;
    const of = (id: number, type: string) =>
      events.filter((e) => e.job_id === id && e.type === type);
    return { events, results, live: Number(live), dead: Number(dead), of };
  } finally {
    db.close();
  }
}

describe("batched outcomes not yet committed when the process dies", () => {
  it(
    "acks with results and a retry lost to a SIGKILL before the flush run again, each job completes once",
    { timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const first = await collect(spawnScript(BATCH_CHILD, ["kill", path]));
      assert.equal(first.signal, "SIGKILL", `${first.code} ${first.stderr}`);
      const ranFirst: Ran[] = first.stdout.trim().split("\n").filter((l) => l.startsWith("ran "))
        .map((l) => {
          const [, id, n, attempt, outcome] = l.split(" ");
          return [Number(id), Number(n), Number(attempt), outcome];
        });
      // Both claims' handlers ended: jobs 1–4, then 5–8, each on its first attempt.
      assert.deepEqual(
        ranFirst.map(([, n, attempt, outcome]) => `${n}@${attempt} ${outcome}`),
        [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${n}@1 ${n === 3 || n === 7 ? "threw" : "returned"}`),
        first.stdout,
      );
      const idOf = new Map(ranFirst.map(([id, n]) => [n, id]));
      const id = (n: number) => idOf.get(n)!;

      // What the kill left: the first claim's outcomes committed with the second claim; the
      // second claim's three acks and one retry were handed to work() and never written.
      const before = await committed(path);
      for (const n of [1, 2, 4]) {
        assert.deepEqual(before.of(id(n), "completed").map((e) => e.attempt), [1], `job ${n}`);
        assert.deepEqual(before.results.get(id(n)), { n, attempt: 1 }, `job ${n}'s result`);
      }
      assert.deepEqual(before.of(id(3), "failed").map((e) => e.attempt), [1]);
      assert.deepEqual(before.of(id(3), "retried").map((e) => e.attempt), [1]);
      for (const n of [3, 5, 6, 7, 8]) {
        assert.equal(before.of(id(n), "completed").length, 0, `job ${n} is not completed yet`);
        assert.equal(before.results.has(id(n)), false, `job ${n} has no result yet`);
      }
      for (const n of [5, 6, 7, 8]) {
        assert.equal(
          before.events.filter((e) => e.job_id === id(n)).length,
          0,
          `job ${n}'s outcome was not committed: ${JSON.stringify(before.events)}`,
        );
      }
      assert.equal(before.live, 5);

      const second = await collect(spawnScript(BATCH_CHILD, ["drain", path]));
      assert.equal(second.code, 0, second.stderr);
      const { ran } = JSON.parse(second.stdout.trim().split("\n").at(-1)!) as { ran: Ran[] };
      // Exactly the jobs whose outcomes were not committed run again (job 3: its committed
      // retry), on their second attempt; the acked ones do not.
      assert.deepEqual(
        ran.map(([, n, attempt, outcome]) => `${n}@${attempt} ${outcome}`).sort(),
        [3, 5, 6, 7, 8].map((n) => `${n}@2 returned`),
        second.stdout,
      );

      const after = await committed(path);
      assert.equal(after.live, 0);
      assert.equal(after.dead, 0);
      for (let n = 1; n <= 8; n++) {
        const attempt = [1, 2, 4].includes(n) ? 1 : 2;
        const done = after.of(id(n), "completed");
        assert.deepEqual(done.map((e) => e.attempt), [attempt], `job ${n} completed once`);
        assert.deepEqual(JSON.parse(done[0].data!), { result: { n, attempt } });
        assert.deepEqual(after.results.get(id(n)), { n, attempt }, `job ${n}'s result`);
      }
      // Job 7's retry died with the process: no failed event; its second attempt is the
      // redelivery of a lapsed claim. Job 3's committed retry is recorded once.
      assert.equal(after.of(id(7), "failed").length, 0);
      assert.equal(after.of(id(7), "retried").length, 0);
      assert.equal(after.of(id(3), "failed").length, 1);
    },
  );
});
