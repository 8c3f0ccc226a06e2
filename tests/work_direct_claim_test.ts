// A worker whose wakes keep finding jobs claims before it looks (issue #16): after another
// process's commit the look is the longest step between the wake and the handler. Its safety:
// a job due later still runs on time after a short direct claim, and a direct claim that finds
// nothing sends the worker back to looking first.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import type { Database } from "../mod.ts";
import { DIRECT_CLAIM_AFTER_WAKES } from "../core/queue/work_fetcher.ts";
import { driverMatrix } from "./_drivers.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { statementLog } from "./_statement_log.ts";
import type { LoggedStatement, StatementLog } from "./_statement_log.ts";

const isLook = (s: LoggedStatement) => s.sql.includes("claimable") && s.params[0] === "jobs";
const isClaim = (s: LoggedStatement) =>
  s.sql.startsWith("UPDATE _honker_live\n  SET state = 'processing'");

const isAck = (s: LoggedStatement) => s.sql.startsWith("DELETE FROM _honker_live");
const kind = (s: LoggedStatement) => isLook(s) ? "look" : isClaim(s) ? "claim" : "ack";

/** Which of the look and the claim came first in `log` from `from` on. */
function firstOf(log: LoggedStatement[], from: number): "look" | "claim" | "neither" {
  for (const s of log.slice(from)) {
    if (isLook(s)) return "look";
    if (isClaim(s)) return "claim";
  }
  return "neither";
}

/** Our worker's Database on a statement-logging connection, and another connection's. */
async function pair(entry: ReturnType<typeof driverMatrix>[number]) {
  const path = tempDbPath();
  const driver = statementLog(await entry.open(path));
  const otherDriver = await entry.open(path);
  return {
    driver,
    db: fromDriver(driver),
    other: fromDriver(otherDriver),
    close() {
      driver.close();
      otherDriver.close();
    },
  };
}

type Pair = Awaited<ReturnType<typeof pair>>;
type Worker = ReturnType<typeof idleWorker>;

/**
 * Runs `body` with an idle worker of `concurrency` on our connection, once its watcher is up
 * (file-system events: a wake must come from the other connection's commit), and cleans up.
 */
function withWorker(
  entry: ReturnType<typeof driverMatrix>[number],
  concurrency: number,
  body: (p: Pair, worker: Worker) => Promise<void>,
  hold?: (payload: number) => Promise<void> | undefined,
): () => Promise<void> {
  return async () => {
    const p = await pair(entry);
    const worker = idleWorker(p.db, concurrency, hold);
    try {
      await sleep(200);
      assert.equal(p.db.wakeSource, "fs", "this test needs file-system events");
      await body(p, worker);
    } finally {
      await worker.stop();
      p.db.close();
      p.other.close();
      p.close();
    }
  };
}

/**
 * An idle worker on "jobs" that wakes on commits only (no idle poll). `hold`: what a handler
 * awaits after it counted its job (nothing: it returns at once).
 */
function idleWorker(
  db: Database,
  concurrency: number,
  hold?: (payload: number) => Promise<void> | undefined,
) {
  const stop = new AbortController();
  const handled: number[] = [];
  const run = db.queue<number>("jobs").work((job) => {
    handled.push(job.payload);
    return hold?.(job.payload);
  }, {
    concurrency,
    idlePollMs: null,
    signal: stop.signal,
  });
  return { handled, stop: async () => (stop.abort(), await run) };
}

/**
 * Jobs from the other connection, each once the worker is idle again (each wake finds a job),
 * until one's claim runs before its look, or `max` rounds. Returns, per round, which ran
 * first. A wake the watcher did not confirm (a backstop catch-up on a loaded machine) neither
 * counts towards DIRECT_CLAIM_AFTER_WAKES nor claims first: the rounds until the first direct
 * claim vary.
 */
async function trickle(
  p: { driver: StatementLog; other: Database },
  worker: { handled: number[] },
  until: "claim" | number,
  max = 60,
): Promise<string[]> {
  const order: string[] = [];
  const rounds = until === "claim" ? max : until;
  for (let i = 0; i < rounds; i++) {
    await sleep(30); // the ack committed, the worker waits again
    const from = p.driver.log.length;
    const want = worker.handled.length + 1;
    p.other.queue<number>("jobs").enqueue(100 + i);
    await eventually(() => worker.handled.length === want, 5000, `job ${i}`);
    order.push(firstOf(p.driver.log, from));
    if (until === "claim" && order.at(-1) === "claim") break;
  }
  return order;
}

/** The claims, looks, acks, BEGINs and COMMITs in `log` from `from` on, in order. */
function writeSteps(log: LoggedStatement[], from: number): string[] {
  const steps: string[] = [];
  for (const s of log.slice(from)) {
    if (/^(BEGIN|COMMIT)/.test(s.sql)) steps.push(s.sql.split(" ")[0]);
    else if (isLook(s) || isClaim(s) || isAck(s)) steps.push(kind(s));
  }
  return steps;
}

/**
 * Runs `round` once the worker's wakes claim directly, and returns the steps it made from the
 * round's start. A try whose wake was not a confirmed one (it looked first) is made again, up to
 * three times.
 */
async function directRound(
  p: Pair,
  worker: Worker,
  round: (attempt: number) => Promise<void>,
): Promise<string[]> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await trickle(p, worker, "claim");
    await sleep(30); // the ack committed, the worker waits again
    const from = p.driver.log.length;
    await round(attempt);
    const steps = writeSteps(p.driver.log, from);
    if (steps[0] === "claim") return steps;
  }
  assert.fail("no wake claimed directly in three tries");
}

for (const entry of driverMatrix()) {
  describe(`${entry.id}: work() claims before it looks once its wakes keep finding jobs`, () => {
    const options = { skip: entry.skip, timeout: 30_000 };
    it(
      "claims first after DIRECT_CLAIM_AFTER_WAKES wakes in a row found a job",
      options,
      withWorker(entry, 1, async (p, worker) => {
        const order = await trickle(p, worker, "claim");
        // The first wakes look first; only after DIRECT_CLAIM_AFTER_WAKES of them found a job
        // does a claim come first, and the next wake claims first too.
        assert.equal(order.at(-1), "claim", order.join(" "));
        assert.ok(order.length > DIRECT_CLAIM_AFTER_WAKES, order.join(" "));
        assert.deepEqual(await trickle(p, worker, 1), ["claim"]);
      }),
    );

    it(
      "a short direct claim still runs a job due later on time",
      options,
      withWorker(entry, 4, async (p, worker) => {
        // One commit: a job due now and one due in two seconds. The direct claim takes the
        // first (one of four slots); the look after it learns when the second is due. A try
        // whose wake was not a confirmed one (its claim looked first) is made again.
        for (let attempt = 0; attempt < 3; attempt++) {
          await trickle(p, worker, "claim");
          const from = p.driver.log.length;
          const jobs = p.other.queue<number>("jobs");
          const [now, later] = [1000 + attempt, 2000 + attempt];
          p.other.transaction((tx) => {
            jobs.enqueue(now, { tx });
            jobs.enqueue(later, { tx, delayS: 2 });
          });
          const t0 = performance.now();
          await eventually(() => worker.handled.includes(now), 5000, "the job due now");
          // The look comes right after the claim, before the first job's ack: the claim could
          // not say what is due after it, and the worker must not sleep on not knowing.
          const next = p.driver.log.slice(from).filter((s) => isLook(s) || isClaim(s) || isAck(s));
          if (kind(next[0]) !== "claim") continue;
          assert.deepEqual(next.slice(0, 2).map(kind), ["claim", "look"]);
          await eventually(() => worker.handled.includes(later), 5000, "the job due in 2 s");
          const ms = performance.now() - t0;
          // unixepoch() counts whole seconds: due 1–2 s after the enqueue.
          assert.ok(ms >= 900 && ms < 3500, `ran ${ms.toFixed(0)} ms after the enqueue`);
          return;
        }
        assert.fail("no wake claimed directly in three tries");
      }),
    );

    it(
      "after a direct claim took the only job, its ack is a look and one autocommit DELETE",
      options,
      withWorker(entry, 1, async (p, worker) => {
        // The direct claim cannot say whether more is due, so the ack's turn claims again. The
        // look comes first, outside any transaction: nothing due, so the ack commits alone, where
        // BEGIN, DELETE, the look and COMMIT held the write lock.
        const steps = await directRound(p, worker, async (attempt) => {
          const want = worker.handled.length + 1;
          const jobs = p.other.queue<number>("jobs");
          jobs.enqueue(3000 + attempt);
          await eventually(
            () => worker.handled.length === want && jobs.stats().processing === 0,
            5000,
            "the job and its ack",
          );
        });
        assert.deepEqual(steps, ["claim", "look", "ack"]);
      }),
    );

    // What a job with a negative payload waits for before its handler returns.
    const gate = { passed: Promise.resolve(), open: () => {} };
    it(
      "after a direct claim, a job enqueued while its handler ran is claimed with its ack",
      options,
      withWorker(entry, 1, async (p, worker) => {
        // The look outside the transaction sees the second job: the ack and the claim of it
        // commit together, the claim taking the look it was handed (no second look).
        const steps = await directRound(p, worker, async (attempt) => {
          const jobs = p.other.queue<number>("jobs");
          gate.passed = new Promise<void>((resolve) => (gate.open = resolve));
          jobs.enqueue(-1 - attempt);
          await eventually(() => worker.handled.at(-1) === -1 - attempt, 5000, "the held job");
          jobs.enqueue(4000 + attempt);
          await sleep(50); // the enqueue's wake reaches a worker with no slot free
          gate.open();
          await eventually(
            () => worker.handled.at(-1) === 4000 + attempt && jobs.stats().processing === 0,
            5000,
            "the second job and both acks",
          );
        });
        assert.deepEqual(steps.slice(0, 6), ["claim", "look", "BEGIN", "ack", "claim", "COMMIT"]);
      }, (payload) => payload < 0 ? gate.passed : undefined),
    );

    it(
      "a direct claim that found nothing sends the next wakes back to looking first",
      options,
      withWorker(entry, 1, async (p, worker) => {
        // A commit that brings no job to "jobs": the direct claim takes nothing, then looks. A
        // try whose wake was not a confirmed one (it looked first) is made again.
        for (let attempt = 0; attempt < 3; attempt++) {
          const warm = await trickle(p, worker, "claim");
          assert.equal(warm.at(-1), "claim", warm.join(" "));
          await sleep(30);
          const from = p.driver.log.length;
          p.other.queue<number>("else").enqueue(attempt);
          await eventually(() => p.driver.log.slice(from).some(isLook), 5000, "the look");
          if (firstOf(p.driver.log, from) !== "claim") continue;
          const handled = worker.handled.length;
          assert.deepEqual(await trickle(p, worker, 2), ["look", "look"]);
          assert.equal(worker.handled.length, handled + 2);
          return;
        }
        assert.fail("no wake claimed directly in three tries");
      }),
    );
  });
}
