/**
 * Worker benchmark (issue #19): what a job's own run options cost, against the plain path in the
 * same run, on the runtime's default driver (or `--driver=NAME`).
 *
 * - The trigger that frees `_honker_ts_job_options` fires on every delete from `_honker_live`,
 *   honker-ts's acks and everyone else's: one enqueue+claim+ack round trip on a file with the
 *   trigger against the same on a file without it, inside a transaction (the statements' cost
 *   without the commit's). Target: at most 1.10×.
 * - A worker draining jobs enqueued with `{ timeoutS, backoff }` (an options row per job, one
 *   read per claim, a timer per attempt) against jobs enqueued without. Target: at most 1.25×.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/worker_bench.ts [--quick]
 * node_modules/.bin/deno run -A bench/worker_bench.ts [--quick]
 * node_modules/.bin/bun bench/worker_bench.ts [--quick]
 * ```
 *
 * `--quick` uses tiny sizes: it shows the bench runs, not a figure to quote.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { bench, do_not_optimize, run } from "mitata";
import { open } from "../mod.ts";
import type { Database, EnqueueOptions } from "../mod.ts";
import { driverArg } from "./_driver_arg.ts";
import { runtimeKey } from "../tests/_runtime.ts";

const QUICK = process.argv.includes("--quick");
/** Jobs per drain. */
const DRAIN_JOBS = QUICK ? 20 : 500;
const CONCURRENCY = 8;
/** enqueue+claim+ack round trips per transaction. */
const ROUND_TRIPS = 50;
const RUN_OPTIONS: EnqueueOptions = {
  timeoutS: 60,
  backoff: { type: "exponential", delayS: 5, jitter: 0.2 },
};
const TRIGGER_TARGET = 1.1;
const OPTIONS_TARGET = 1.25;

const dir = mkdtempSync(join(tmpdir(), "honker-ts-worker-bench-"));
const driver = driverArg();
const opened: Database[] = [];
let files = 0;

async function fresh(withTrigger: boolean): Promise<Database> {
  const db = await open(join(dir, `case-${++files}.db`), { driver });
  if (!withTrigger) db.driver.exec("DROP TRIGGER _honker_ts_job_options_free");
  opened.push(db);
  return db;
}

async function registerRoundTrip(name: string, withTrigger: boolean): Promise<void> {
  const db = await fresh(withTrigger);
  const q = db.queue("bench");
  // A few hundred jobs waiting behind, as in a working queue.
  q.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ i })), { delayS: 3600 });
  // Many in one transaction: the statements' own cost, not the commit's fsync and its noise.
  bench(name, () =>
    db.transaction(() => {
      for (let i = 0; i < ROUND_TRIPS; i++) {
        q.enqueue({ to: "someone@example.com" });
        const job = q.claimOne("w");
        do_not_optimize(job?.ack());
      }
    }));
}

async function registerDrain(name: string, options: EnqueueOptions | undefined): Promise<void> {
  const q = (await fresh(true)).queue<number>("bench");
  const payloads = Array.from({ length: DRAIN_JOBS }, (_, i) => i);
  bench(name, async () => {
    q.enqueueMany(payloads, options);
    let left = DRAIN_JOBS;
    let drained = () => {};
    const done = new Promise<void>((resolve) => (drained = resolve));
    const worker = q.worker(async () => {
      await Promise.resolve();
      if (--left === 0) drained();
    }, { concurrency: CONCURRENCY, idlePollMs: null });
    await done;
    await worker.close();
  });
}

type Stats = Map<string, { avg: number; p50: number }>;

function report(stats: Stats): void {
  const rows: [string, string, string, number][] = [
    [
      `${ROUND_TRIPS} round trips: trigger ÷ none`,
      "round trip, trigger",
      "round trip, no trigger",
      TRIGGER_TARGET,
    ],
    [
      `drain ${DRAIN_JOBS}: run options ÷ none`,
      "drain, run options",
      "drain, plain",
      OPTIONS_TARGET,
    ],
  ];
  console.log(`\n${runtimeKey()} · ${driver}${QUICK ? " · --quick (tiny sizes)" : ""}`);
  for (const [label, a, b, target] of rows) {
    const x = stats.get(a), y = stats.get(b);
    const ratio = x && y ? x.p50 / y.p50 : NaN;
    const us = (s: { p50: number } | undefined) => ((s?.p50 ?? NaN) / 1000).toFixed(1);
    const verdict = ratio <= target ? "met" : "not met";
    console.log(
      `${label.padEnd(36)} ${us(x).padStart(9)} µs ÷ ${us(y).padStart(9)} µs = ` +
        `${ratio.toFixed(2)}× (target ≤ ${target.toFixed(2)}×: ${verdict})`,
    );
  }
}

try {
  await registerRoundTrip("round trip, no trigger", false);
  await registerRoundTrip("round trip, trigger", true);
  await registerDrain("drain, plain", undefined);
  await registerDrain("drain, run options", RUN_OPTIONS);
  const { benchmarks } = await run({ throw: true });
  report(
    new Map(benchmarks.map((trial) => {
      const { avg = NaN, p50 = NaN } = trial.runs[0]?.stats ?? {};
      return [trial.alias, { avg, p50 }];
    })),
  );
} finally {
  for (const db of opened) db.close();
  rmSync(dir, { recursive: true, force: true });
}
