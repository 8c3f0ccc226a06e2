// Property test of the claim protocol (spec §2.2–2.6). A seeded PRNG drives N workers (2–6, each
// its own Database connection on one file) through random interleavings of enqueue, claimBatch,
// claimOne, ack, retry, heartbeat, fail and "time passes" (claims expired and delays elapsed by
// rewriting claim_expires_at and run_at in SQL), then drains the queue. A model predicts every
// result and the whole queue after every step. The seed is printed; PROPERTY_SEED replays a run
// and PROPERTY_SEQUENCES changes its length.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fromDriver } from "../mod.ts";
import type { Database, Job, Queue } from "../mod.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";
import { mulberry32 } from "./_prng.ts";

const SEQUENCES = Number(process.env.PROPERTY_SEQUENCES ?? 200);
const STEPS = 100;
const SEED = process.env.PROPERTY_SEED
  ? Number(process.env.PROPERTY_SEED) >>> 0
  : Math.floor(Math.random() * 2 ** 32);
const MAX_WORKERS = 6;
/** Claims last far longer than a sequence runs: only "time passes" steps expire them. */
const VISIBILITY_TIMEOUT_S = 300;
/**
 * The run_at of every due job: jobs are enqueued with it, and a retry without delay or an
 * elapsed delay sets it. Claim order (priority, run_at, id) then never depends on the wall-clock
 * second, so the model knows exactly which jobs a claim takes and a seed replays exactly.
 */
const LOGICAL_DUE_AT = 1;

interface ModelJob {
  id: number;
  state: "pending" | "processing" | "acked" | "dead";
  holder: string | null;
  /** Processing: the claim has expired. */
  expired: boolean;
  /** Pending: run_at has come. */
  due: boolean;
  attempts: number;
  maxAttempts: number;
  priority: number;
}

interface Worker {
  id: string;
  queue: Queue<number>;
  /** Jobs this worker claimed, newest last; older ones may be stale (expired, taken, done). */
  held: Job<number>[];
}

interface LiveRow {
  [column: string]: number | string | null;
  id: number;
  state: string;
  worker_id: string | null;
  expired: number;
  due: number;
  attempts: number;
}

/** How often each outcome happened over a run, to show which paths the sequences reached. */
const stats: Record<string, number> = {};
function count(what: string): void {
  stats[what] = (stats[what] ?? 0) + 1;
}

/** One sequence: a fresh queue on the shared file, its workers, and the model. */
class Sequence {
  readonly jobs = new Map<number, ModelJob>();
  readonly workers: Worker[];
  readonly #observer: SqliteDriver;
  readonly #queue: string;
  readonly #rand: () => number;
  #lastAttempts = new Map<number, number>();

  constructor(dbs: Database[], observer: SqliteDriver, queue: string, rand: () => number) {
    this.#observer = observer;
    this.#queue = queue;
    this.#rand = rand;
    const n = 2 + Math.floor(rand() * (MAX_WORKERS - 1));
    this.workers = dbs.slice(0, n).map((db, i) => ({
      id: `w${i}`,
      queue: db.queue<number>(queue, { visibilityTimeoutS: VISIBILITY_TIMEOUT_S }),
      held: [],
    }));
  }

  #int(lo: number, hi: number): number {
    return lo + Math.floor(this.#rand() * (hi - lo + 1));
  }

  #pick<T>(items: readonly T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.#rand() * items.length)];
  }

  /** Whether `worker` currently holds `id` with an unexpired claim, per the model. */
  #holds(worker: Worker, id: number): boolean {
    const job = this.jobs.get(id);
    return job?.state === "processing" && job.holder === worker.id && !job.expired;
  }

  /** Runs one random step; returns a description for failure messages. */
  step(): string {
    const worker = this.#pick(this.workers) as Worker;
    const roll = this.#rand();
    if (roll < 0.1) return this.#enqueue(worker);
    if (roll < 0.25) return this.#claim(worker, this.#int(1, 4));
    if (roll < 0.33) return this.#claim(worker, 1);
    if (roll < 0.9) return this.#act(worker, roll);
    return this.#timePasses(0.5);
  }

  #enqueue(worker: Worker): string {
    const count = this.#int(1, 3);
    const maxAttempts = this.#int(1, 4);
    const priority = this.#int(0, 2);
    const ids = worker.queue.enqueueMany(
      Array.from({ length: count }, (_, i) => i),
      { maxAttempts, priority, runAt: LOGICAL_DUE_AT },
    );
    for (const id of ids) {
      this.jobs.set(id, {
        id,
        state: "pending",
        holder: null,
        expired: false,
        due: true,
        attempts: 0,
        maxAttempts,
        priority,
      });
    }
    return `${worker.id} enqueues ${ids} (maxAttempts ${maxAttempts}, priority ${priority})`;
  }

  #claim(worker: Worker, n: number): string {
    // A claim first dead-letters expired claims that are out of attempts.
    for (const job of this.jobs.values()) {
      if (job.state === "processing" && job.expired && job.attempts >= job.maxAttempts) {
        count("dead-lettered by a claim");
        job.state = "dead";
        job.holder = null;
      }
    }
    const eligible = [...this.jobs.values()].filter((job) =>
      job.attempts < job.maxAttempts &&
      ((job.state === "pending" && job.due) || (job.state === "processing" && job.expired))
    );
    const got = n === 1
      ? [worker.queue.claimOne(worker.id)].filter((job) => job !== null)
      : worker.queue.claimBatch(worker.id, n);
    const what = `${worker.id} claims ${n}: got ${got.map((job) => job.id)}`;
    assert.equal(
      got.length,
      Math.min(n, eligible.length),
      `${what}; eligible ${eligible.map((j) => j.id)}`,
    );
    const expected = eligible.sort((a, b) => b.priority - a.priority || a.id - b.id).slice(0, n);
    assert.deepEqual(got.map((job) => job.id), expected.map((job) => job.id), what);
    for (const job of got) {
      const model = this.jobs.get(job.id);
      assert.ok(model && eligible.includes(model), `${what}: job ${job.id} was not claimable`);
      assert.ok(
        !this.workers.some((other) => this.#holds(other, job.id)),
        `${what}: job ${job.id} is still held by ${model.holder} with an unexpired claim`,
      );
      if (model.state === "processing") {
        count(
          model.holder === worker.id
            ? "expired claim reclaimed by its holder"
            : "expired claim taken over",
        );
      }
      model.state = "processing";
      model.holder = worker.id;
      model.expired = false;
      model.attempts++;
      assert.equal(job.attempts, model.attempts, `${what}: attempts of ${job.id}`);
      assert.equal(job.workerId, worker.id);
      assert.equal(typeof job.payload, "number");
    }
    worker.held.push(...got);
    if (worker.held.length > 8) worker.held.splice(0, worker.held.length - 8);
    return what;
  }

  /** ack, retry, heartbeat or fail on one of the worker's (possibly stale) jobs. */
  #act(worker: Worker, roll: number): string {
    const job = this.#pick(worker.held);
    if (!job) return this.#claim(worker, 1);
    const model = this.jobs.get(job.id) as ModelJob;
    const mine = this.#holds(worker, job.id);
    let kind: string;
    let ok: boolean;
    if (roll < 0.55) {
      kind = "ack";
      ok = job.ack();
      if (mine) model.state = "acked";
    } else if (roll < 0.7) {
      const delayS = this.#pick([0, 0, 3600]) as number;
      kind = `retry(${delayS})`;
      ok = job.retry(delayS, "property");
      if (mine) {
        model.state = model.attempts >= model.maxAttempts ? "dead" : "pending";
        model.due = delayS === 0;
        if (model.state === "pending" && model.due) this.#setDue([job.id]);
      }
    } else if (roll < 0.82) {
      kind = "heartbeat";
      ok = job.heartbeat(this.#pick([60, 300]) as number);
    } else {
      kind = "fail";
      ok = job.fail("property");
      if (mine) model.state = "dead";
    }
    if (mine && model.state !== "processing") model.holder = null;
    const what = `${worker.id} ${kind} job ${job.id}: ${ok}`;
    count(`${kind.replace(/\(.*/, "")} ${mine ? "by the holder" : "refused"}`);
    assert.equal(
      ok,
      mine,
      `${what}, but the model says the worker ${mine ? "holds" : "does not hold"} it`,
    );
    return what;
  }

  #setDue(ids: number[]): void {
    this.#observer.run(
      "UPDATE _honker_live SET run_at = ? WHERE id IN (SELECT value FROM json_each(?))",
      [LOGICAL_DUE_AT, JSON.stringify(ids)],
    );
  }

  /** Expires each live claim and elapses each delay with probability `p`. */
  #timePasses(p: number): string {
    const expire: number[] = [];
    const elapse: number[] = [];
    for (const job of this.jobs.values()) {
      if (job.state === "processing" && !job.expired && this.#rand() < p) expire.push(job.id);
      if (job.state === "pending" && !job.due && this.#rand() < p) elapse.push(job.id);
    }
    this.#observer.run(
      "UPDATE _honker_live SET claim_expires_at = unixepoch() - 1 " +
        "WHERE id IN (SELECT value FROM json_each(?))",
      [JSON.stringify(expire)],
    );
    this.#setDue(elapse);
    for (const id of expire) (this.jobs.get(id) as ModelJob).expired = true;
    for (const id of elapse) (this.jobs.get(id) as ModelJob).due = true;
    return `time passes: claims of ${expire} expire, delays of ${elapse} elapse`;
  }

  /** The file must match the model exactly, and no attempts count may go down. */
  check(): void {
    const live = new Map(
      this.#observer.all<LiveRow>(
        "SELECT id, state, worker_id, claim_expires_at < unixepoch() AS expired, " +
          "run_at <= unixepoch() AS due, attempts FROM _honker_live WHERE queue = ?",
        [this.#queue],
      ).map((row) => [row.id, row]),
    );
    const dead = new Map(
      this.#observer.all<{ id: number; attempts: number }>(
        "SELECT id, attempts FROM _honker_dead WHERE queue = ?",
        [this.#queue],
      ).map((row) => [row.id, row.attempts]),
    );
    let liveCount = 0;
    let deadCount = 0;
    for (const job of this.jobs.values()) {
      const row = live.get(job.id);
      const attempts = row?.attempts ?? dead.get(job.id);
      if (attempts !== undefined) {
        const last = this.#lastAttempts.get(job.id) ?? 0;
        assert.ok(
          attempts >= last,
          `attempts of job ${job.id} went down from ${last} to ${attempts}`,
        );
        this.#lastAttempts.set(job.id, attempts);
      }
      if (job.state === "acked") {
        assert.ok(!row && !dead.has(job.id), `acked job ${job.id} is still in the file`);
      } else if (job.state === "dead") {
        deadCount++;
        assert.ok(!row, `dead job ${job.id} is still live`);
        assert.equal(dead.get(job.id), job.attempts, `dead job ${job.id} attempts`);
      } else {
        liveCount++;
        assert.ok(row, `job ${job.id} (${job.state}) is missing`);
        const expected = {
          state: job.state,
          worker_id: job.state === "processing" ? job.holder : null,
          expired: job.state === "processing" ? Number(job.expired) : row.expired,
          due: job.state === "pending" ? Number(job.due) : row.due,
          attempts: job.attempts,
        };
        const { id: _, ...actual } = row;
        assert.deepEqual({ ...actual }, expected, `job ${job.id}`);
      }
    }
    assert.equal(live.size, liveCount, "live rows the model does not know");
    assert.equal(dead.size, deadCount, "dead rows the model does not know");
  }

  /** Lets time pass for everything and has one worker claim and ack until nothing is left. */
  drain(): void {
    const worker = this.workers[0];
    for (let round = 0; round < 1000; round++) {
      this.#timePasses(1);
      this.#claim(worker, 8);
      this.check();
      for (const job of worker.held.splice(0)) {
        if (this.#holds(worker, job.id)) {
          assert.equal(job.ack(), true, `drain: ack of ${job.id}`);
          (this.jobs.get(job.id) as ModelJob).state = "acked";
        }
      }
      this.check();
      if ([...this.jobs.values()].every((job) => job.state === "acked" || job.state === "dead")) {
        return;
      }
    }
    assert.fail("the queue never drained");
  }
}

async function runSequences(entries: DriverEntry[], count: number, label: string): Promise<void> {
  const path = tempDbPath();
  const dbs: Database[] = [];
  for (let i = 0; i < MAX_WORKERS; i++) {
    const driver = await entries[i % entries.length].open(path);
    dbs.push(fromDriver(driver, { wake: "poll", pollIntervalMs: 1000 }));
  }
  const observer = await entries[0].open(path);
  let steps = 0;
  try {
    for (let s = 0; s < count; s++) {
      const seed = (SEED + Math.imul(s, 0x9e3779b9)) >>> 0;
      const queue = `${label}-${s}`;
      const sequence = new Sequence(dbs, observer, queue, mulberry32(seed));
      let at = "step 0";
      let previous = "none";
      try {
        for (let step = 0; step < STEPS; step++) {
          at = `step ${step}`;
          previous = sequence.step();
          sequence.check();
          steps++;
        }
        at = "the drain";
        sequence.drain();
      } catch (error) {
        const where = `PROPERTY_SEED=${SEED}, sequence ${s} (${sequence.workers.length} ` +
          `workers, queue ${queue}), at ${at} (the step before: ${previous})`;
        throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
      }
      const dead = [...sequence.jobs.values()].filter((job) => job.state === "dead").length;
      assert.equal(
        dead + [...sequence.jobs.values()].filter((job) => job.state === "acked").length,
        sequence.jobs.size,
      );
      observer.run("DELETE FROM _honker_dead WHERE queue = ?", [queue]);
    }
  } finally {
    for (const db of dbs) {
      db.close();
      db.driver.close();
    }
    observer.close();
  }
  assert.equal(steps, count * STEPS);
}

console.log(`claim property seed: ${SEED} (set PROPERTY_SEED=${SEED} to replay)`);

describe("claim protocol property", () => {
  const available = driverMatrix().filter((entry) => !entry.skip);
  it(
    `${SEQUENCES} random sequences of ${STEPS} steps, workers on ${
      available.map((e) => e.id).join(" + ")
    }`,
    {
      timeout: 120_000,
      skip: available.length === 0 ? "no driver of the matrix runs here" : undefined,
    },
    async () => {
      await runSequences(available, SEQUENCES, "mixed");
      console.log(`claim property outcomes: ${JSON.stringify(stats)}`);
    },
  );
  for (const entry of driverMatrix()) {
    if (entry.skip) it(`workers on ${entry.id}`, { skip: entry.skip }, () => {});
  }
});
