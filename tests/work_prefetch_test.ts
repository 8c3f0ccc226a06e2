// work({ prefetch }) (core/queue/work_prefetch.ts): a run claims up to its free slots plus
// `prefetch` jobs in one transaction, holds the extra ones (their claims renewed) and starts them
// in claim order as slots free up; a pause or a stop gives the held ones back, pending again with
// their attempt refunded; a held job whose claim is lost never starts. Across processes, with
// one SIGKILLed while it holds jobs, every job is still handled exactly once.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { countRows, watchLapsedClaims } from "./_db.ts";
import { eventually, removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { collect, LineReader, spawnScript } from "./_spawn.ts";

const SLOW = { timeout: 60_000 };
const PREFETCH_WORKER = fileURLToPath(new URL("./fixtures/prefetch_worker.ts", import.meta.url));
after(removeTempDirs);

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Waits until `n` live rows are in `state`. */
function liveIn(db: Database, state: "pending" | "processing", n: number): Promise<void> {
  return eventually(
    () => countRows(db, "_honker_live", `state = '${state}'`) === n,
    5000,
    `${n} ${state} jobs`,
  );
}

/** The live rows of queue "jobs" by state, with their attempts. */
function liveRows(db: Database): { id: number; state: string; attempts: number }[] {
  return db.driver.all<{ id: number; state: string; attempts: number }>(
    "SELECT id, state, attempts FROM _honker_live WHERE queue = 'jobs' ORDER BY id",
  ).map((row) => ({ ...row }));
}

describe("work({ prefetch })", () => {
  it("claims free slots + prefetch at once, holds the rest and starts them in claim order", async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs");
    q.enqueueMany(Array.from({ length: 10 }, (_, i) => i));
    const started: number[] = [];
    const release = gate();
    const stop = new AbortController();
    const done = q.work(async (job) => {
      started.push(job.payload);
      await release.opened;
    }, { concurrency: 2, prefetch: 6, signal: stop.signal, idlePollMs: null });
    try {
      await eventually(() => started.length === 2, 5000, "two handlers started");
      // One claim took 2 + 6 jobs: two run, six wait claimed; the last two are still pending.
      assert.equal(countRows(db, "_honker_live", "state = 'processing'"), 8);
      assert.equal(countRows(db, "_honker_live", "state = 'pending'"), 2);
      assert.deepEqual(started, [0, 1]);
      release.open();
      await eventually(() => countRows(db, "_honker_live") === 0, 10_000, "every ack");
      stop.abort();
      assert.deepEqual(await done, { acked: 10, retried: 0, dead: 0, lost: 0 });
      assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      stop.abort();
      db.close();
    }
  });

  it(
    "renews held claims: jobs held longer than the visibility timeout keep them",
    SLOW,
    async () => {
      const db = await open(tempDbPath());
      // A 1 s claim; each handler takes 0.8 s at concurrency 1, so the last of 4 waits 2.4 s.
      const q = db.queue<number>("jobs", { visibilityTimeoutS: 1 });
      q.enqueueMany([0, 1, 2, 3]);
      // Every 50 ms, any claim past its expiry: one a rival worker could take.
      const watch = watchLapsedClaims(db);
      const attempts: number[] = [];
      const stop = new AbortController();
      try {
        const done = q.work(async (job) => {
          attempts.push(job.attempts);
          await sleep(800);
        }, { concurrency: 1, prefetch: 3, signal: stop.signal, idlePollMs: null });
        await eventually(() => countRows(db, "_honker_live") === 0, 20_000, "every ack");
        stop.abort();
        assert.deepEqual(await done, { acked: 4, retried: 0, dead: 0, lost: 0 });
      } finally {
        watch.stop();
        stop.abort();
        db.close();
      }
      assert.deepEqual([...watch.lapsed], [], "these held claims lapsed");
      assert.deepEqual(attempts, [1, 1, 1, 1], "each job ran on its first attempt");
    },
  );

  it("a stop gives held jobs back at once, pending with their attempt refunded", SLOW, async () => {
    const db = await open(tempDbPath());
    // One attempt each: had the claim's attempt stayed counted, the next claim would bury them.
    const q = db.queue<number>("jobs", { maxAttempts: 1 });
    q.enqueueMany([0, 1, 2, 3, 4]);
    const release = gate();
    const stop = new AbortController();
    const done = q.work(async () => await release.opened, {
      concurrency: 1,
      prefetch: 4,
      signal: stop.signal,
      idlePollMs: null,
    });
    try {
      await liveIn(db, "processing", 5);
      stop.abort();
      // The held four are back while the running handler still runs.
      await liveIn(db, "pending", 4);
      assert.deepEqual(liveRows(db).map((r) => [r.state, r.attempts]), [
        ["processing", 1],
        ["pending", 0],
        ["pending", 0],
        ["pending", 0],
        ["pending", 0],
      ]);
      release.open();
      assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
      // Another worker runs them, first attempt each; none goes to the dead letters.
      const again = new AbortController();
      const ran: number[] = [];
      const second = q.work((job) => void ran.push(job.payload), {
        signal: again.signal,
        idlePollMs: null,
      });
      await eventually(() => ran.length === 4, 5000, "the given-back jobs ran");
      again.abort();
      assert.deepEqual(await second, { acked: 4, retried: 0, dead: 0, lost: 0 });
      assert.deepEqual(ran, [1, 2, 3, 4]);
      assert.equal(countRows(db, "_honker_dead"), 0);
    } finally {
      stop.abort();
      release.open();
      db.close();
    }
  });

  it("a pause gives held jobs back; a resume claims them again", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs");
    q.enqueueMany([0, 1, 2, 3]);
    const release = gate();
    const ran: number[] = [];
    const worker = q.worker(async (job) => {
      ran.push(job.payload);
      if (job.payload === 0) await release.opened;
    }, { concurrency: 1, prefetch: 3, idlePollMs: null });
    try {
      await liveIn(db, "processing", 4);
      assert.deepEqual([worker.running, worker.held], [1, 3]);
      assert.equal(worker.pause(), true);
      await liveIn(db, "pending", 3);
      assert.deepEqual([worker.running, worker.held], [1, 0]);
      release.open();
      await eventually(() => countRows(db, "_honker_live") === 3, 5000, "job 0 acked");
      assert.deepEqual(ran, [0], "no held job started while paused");
      assert.equal(worker.resume(), true);
      await eventually(() => countRows(db, "_honker_live") === 0, 5000, "every ack");
      assert.deepEqual(ran, [0, 1, 2, 3]);
      assert.deepEqual(await worker.close(), { acked: 4, retried: 0, dead: 0, lost: 0 });
    } finally {
      release.open();
      await worker.close();
      db.close();
    }
  });

  it("`drained` waits until every held job has started", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs");
    q.enqueueMany(Array.from({ length: 8 }, (_, i) => i));
    const ran: number[] = [];
    const worker = q.worker(async (job) => {
      ran.push(job.payload);
      await sleep(5);
    }, { concurrency: 2, prefetch: 6, idlePollMs: null });
    try {
      // The usual "drain, then close" of a script: a drained told while jobs are held would
      // close the worker and give them back unrun.
      const drained = new Promise<void>((resolve) =>
        worker.addEventListener("drained", () => resolve(), { once: true })
      );
      await drained;
      assert.deepEqual(ran, [0, 1, 2, 3, 4, 5, 6, 7], "every job started before drained");
      assert.deepEqual(await worker.close(), { acked: 8, retried: 0, dead: 0, lost: 0 });
    } finally {
      await worker.close();
      db.close();
    }
  });

  for (const prefetch of [0, 4]) {
    it(
      `a handler that pauses its worker mid-claim strands no job (prefetch ${prefetch})`,
      SLOW,
      async () => {
        const db = await open(tempDbPath());
        const q = db.queue<number>("jobs");
        const total = 4 + prefetch;
        q.enqueueMany(Array.from({ length: total }, (_, i) => i));
        const ran: number[] = [];
        // A circuit breaker: the first job pauses the worker from inside its handler, while the
        // claim that handed it out is still handing out the others.
        const worker = q.worker(async (job) => {
          ran.push(job.payload);
          if (job.payload === 0) worker.pause();
          await sleep(5);
        }, { concurrency: 4, prefetch, idlePollMs: null });
        try {
          await eventually(() => ran.length === 4, 5000, "4 handlers started");
          await liveIn(db, "processing", 0);
          await sleep(50); // no more handler starts while paused
          // The claim's jobs with a free slot ran, as without prefetch; the held ones went back.
          assert.deepEqual(ran, [0, 1, 2, 3]);
          assert.equal(
            countRows(db, "_honker_live", "state = 'pending' AND attempts = 0"),
            prefetch,
          );
          assert.equal(worker.resume(), true);
          await eventually(() => countRows(db, "_honker_live") === 0, 5000, "every ack");
          assert.deepEqual(await worker.close(), { acked: total, retried: 0, dead: 0, lost: 0 });
        } finally {
          await worker.close();
          db.close();
        }
      },
    );
  }

  it("a held job cancelled meanwhile never starts and counts as lost", SLOW, async () => {
    const db = await open(tempDbPath());
    // Held claims are renewed every 333 ms: the renewal after the cancel is refused.
    const q = db.queue<number>("jobs", { visibilityTimeoutS: 1 });
    const [, cancelled] = q.enqueueMany([0, 1, 2]);
    const release = gate();
    const ran: number[] = [];
    const lost: number[] = [];
    const worker = q.worker(async (job) => {
      ran.push(job.payload);
      if (job.payload === 0) await release.opened;
    }, { concurrency: 1, prefetch: 2, idlePollMs: null });
    worker.addEventListener("lost", (event) => lost.push(event.detail.job.id));
    try {
      await liveIn(db, "processing", 3);
      assert.equal(q.cancel(cancelled), true);
      await sleep(1000); // a renewal or two
      release.open();
      await eventually(() => ran.length === 2 && countRows(db, "_honker_live") === 0, 5000, "done");
      assert.deepEqual(ran, [0, 2]);
      assert.deepEqual(lost, [cancelled]);
      assert.deepEqual(await worker.close(), { acked: 2, retried: 0, dead: 0, lost: 1 });
    } finally {
      release.open();
      await worker.close();
      db.close();
    }
  });

  it(
    "a stop counts a held job whose claim was lost as lost, and gives the others back",
    SLOW,
    async () => {
      const db = await open(tempDbPath());
      const q = db.queue<number>("jobs", { visibilityTimeoutS: 1 });
      const [, cancelled, kept] = q.enqueueMany([0, 1, 2]);
      const release = gate();
      const worker = q.worker(async () => await release.opened, {
        concurrency: 1,
        prefetch: 2,
        idlePollMs: null,
      });
      try {
        await liveIn(db, "processing", 3);
        assert.equal(q.cancel(cancelled), true);
        await sleep(1000); // the renewal after the cancel is refused
        const closed = worker.close();
        await liveIn(db, "pending", 1);
        release.open();
        assert.deepEqual(await closed, { acked: 1, retried: 0, dead: 0, lost: 1 });
        assert.deepEqual(liveRows(db).map((r) => [r.id, r.state, r.attempts]), [[
          kept,
          "pending",
          0,
        ]]);
      } finally {
        release.open();
        await worker.close();
        db.close();
      }
    },
  );

  it("synchronous handlers drain a large hold without deep recursion", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs");
    q.enqueueMany(Array.from({ length: 20_000 }, (_, i) => i));
    let handled = 0;
    let ordered = true;
    const stop = new AbortController();
    // The first handler is async, so the claim's other jobs are held; the rest are synchronous,
    // each ending inside the start of the one before.
    const done = q.work((job) => {
      if (job.payload !== handled++) ordered = false;
      if (job.payload === 0) return sleep(10);
    }, { concurrency: 1, prefetch: 20_000, signal: stop.signal, idlePollMs: null });
    try {
      await eventually(() => countRows(db, "_honker_live") === 0, 30_000, "every ack");
      stop.abort();
      assert.deepEqual(await done, { acked: 20_000, retried: 0, dead: 0, lost: 0 });
      assert.ok(ordered, "jobs ran in claim order");
    } finally {
      stop.abort();
      db.close();
    }
  });

  it("gives a held job back as a `retried` event, then `active` again", async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs", { events: true });
    const [, held] = q.enqueueMany([0, 1]);
    const release = gate();
    const stop = new AbortController();
    const done = q.work(async () => await release.opened, {
      concurrency: 1,
      prefetch: 1,
      signal: stop.signal,
      idlePollMs: null,
    });
    try {
      await liveIn(db, "processing", 2);
      stop.abort();
      await liveIn(db, "pending", 1);
      release.open();
      await done;
      const events = db.driver.all<{ type: string; attempt: number }>(
        "SELECT type, attempt FROM _honker_ts_job_events WHERE job_id = ? ORDER BY id",
        [held],
      ).map((e) => [e.type, e.attempt]);
      assert.deepEqual(events, [["enqueued", 0], ["active", 1], ["retried", 0]]);
    } finally {
      stop.abort();
      release.open();
      db.close();
    }
  });

  it("refuses a prefetch that is not a whole number of jobs, before claiming", async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs");
    q.enqueue(1);
    try {
      const cases: [unknown, ErrorConstructor, RegExp][] = [
        [-1, RangeError, /prefetch must not be negative, got -1/],
        [1.5, TypeError, /prefetch must be an integer, got 1\.5/],
        ["8", TypeError, /prefetch must be an integer, got "8"/],
        [2 ** 31, RangeError, /prefetch must be at most 2147483647, got 2147483648/],
      ];
      for (const [prefetch, error, message] of cases) {
        await assert.rejects(
          q.work(() => {}, { prefetch: prefetch as number }),
          (e: Error) =>
            e instanceof error && /work on queue "jobs"/.test(e.message) &&
            message.test(e.message),
          String(prefetch),
        );
        assert.throws(() => q.worker(() => {}, { prefetch: prefetch as number }), error);
      }
      assert.deepEqual(liveRows(db).map((r) => [r.state, r.attempts]), [["pending", 0]]);
    } finally {
      db.close();
    }
  });
});

describe("work({ prefetch }) across processes", () => {
  it(
    "three processes, one SIGKILLed while it holds jobs: every job handled exactly once",
    { timeout: 120_000 },
    async () => {
      const path = tempDbPath();
      const db = await open(path);
      db.driver.exec(
        "CREATE TABLE seen (job_id INTEGER NOT NULL, attempt INTEGER NOT NULL, pid INTEGER)",
      );
      // A short visibility timeout: the killed process's claims come back within seconds.
      const q = db.queue<number>("jobs", { visibilityTimeoutS: 2 });
      const total = 3000;
      q.enqueueMany(Array.from({ length: total }, (_, i) => i));
      const children = [0, 1, 2].map(() => spawnScript(PREFETCH_WORKER, [path, "2", "30"]));
      const readers = children.map((child) => new LineReader(child));
      const results = children.map((child) => collect(child));
      try {
        await Promise.all(readers.map((r) => r.waitFor(/^ready$/, 30_000)));
        for (const child of children) child.stdin.write("go\n");
        // Mid-drain, once the first child has handled jobs and while it holds claims (its acks
        // commit with its next claim, so it holds some until the queue runs dry): killed with 2
        // jobs running and up to 30 held, before it can give any back.
        const victim = children[0].pid as number;
        await eventually(() => countRows(db, "seen", `pid = ${victim}`) >= 50, 30_000, "50 jobs");
        // Stopped (SIGSTOP) before its claims are counted, so that it cannot ack the last of
        // them between the count and the kill: on a loaded machine it once did, and no claim of
        // its came back.
        await eventually(
          () => {
            process.kill(victim, "SIGSTOP");
            if (countRows(db, "_honker_live", `worker_id = 'w-${victim}'`) > 0) return true;
            process.kill(victim, "SIGCONT");
            return false;
          },
          30_000,
          "a claim of the first child",
        );
        process.kill(victim, "SIGKILL");
        await eventually(() => countRows(db, "_honker_live") === 0, 60_000, "every job done");
        for (const child of children.slice(1)) child.stdin.end();
        const [killed, ...ended] = await Promise.all(results);
        assert.equal(killed.signal, "SIGKILL");
        for (const r of ended) assert.equal(r.code, 0, r.stderr);
        const counts = db.driver.all<{ n: number; jobs: number; again: number }>(
          "SELECT count(*) AS n, count(DISTINCT job_id) AS jobs, " +
            "sum(attempt > 1) AS again FROM seen",
        )[0];
        assert.equal(counts.jobs, total, "every job handled");
        assert.equal(counts.n, total, "no job handled twice");
        assert.ok(counts.again > 0, "the killed process held claims that came back");
        assert.equal(countRows(db, "_honker_dead"), 0);
      } finally {
        for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
        db.close();
      }
    },
  );
});
