/**
 * Job-events benchmark (issue #19): what recording events costs a claim+ack, what the triggers
 * cost a queue with events off against a file without them, and how soon `waitFor()` settles
 * after the ack that completes its job, in this process and from another one.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/events_bench.ts [--quick] [--driver=NAME]
 * node_modules/.bin/deno run -A bench/events_bench.ts
 * node_modules/.bin/bun bench/events_bench.ts
 * ```
 *
 * Each claim+ack case runs on its own fresh WAL file holding DEPTH pending jobs (each timed
 * claim+ack first refills, untimed, the job it takes), measured by mitata in the same run;
 * "no triggers" is a file whose job-event triggers were dropped after open. `waitFor()` lag is
 * the time from the ack's return (its commit) to the moment the waiting promise settled; across
 * processes the ack is made by a child (`tests/fixtures/events_peer.ts ack`), which prints its
 * time. `--quick` uses tiny sizes (the smoke test in `tests/events_bench_test.ts`).
 *
 * @module
 */

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { open } from "../mod.ts";
import type { Database, Queue } from "../mod.ts";
import { driverArg } from "./_driver_arg.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { exited, LineReader, spawnScript } from "../tests/_spawn.ts";

const QUICK = process.argv.includes("--quick");
const DEPTH = QUICK ? 50 : 1_000;
const WAITS = QUICK ? 10 : 300;
/** Rounds of the interleaved claim+ack measurement; WAL-measured claim+acks per setup. */
const ROUNDS = QUICK ? 30 : 4_000;
const WAL_OPS = QUICK ? 20 : 500;
const JOB = { to: "someone@example.com", template: "welcome" };
const PEER = fileURLToPath(new URL("../tests/fixtures/events_peer.ts", import.meta.url));
/** Issue #19's targets. */
const RATIO_TARGET = 1.5;
const WAIT_P50_TARGET_MS = 1;

const dir = mkdtempSync(join(tmpdir(), "honker-ts-events-bench-"));
const driverName = driverArg();
let fileCount = 0;

type Setup = "events on" | "events off" | "no triggers";
const SETUPS: readonly Setup[] = ["events on", "events off", "no triggers"];

interface Fixture {
  db: Database;
  queue: Queue<typeof JOB>;
  path: string;
}

async function fixture(setup: Setup): Promise<Fixture> {
  const path = join(dir, `case-${++fileCount}.db`);
  const db = await open(path, { driver: driverName });
  const queue = db.queue<typeof JOB>("bench", { events: setup === "events on" });
  if (setup === "no triggers") {
    const triggers = db.driver.all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB '_honker_ts_job_*'",
    );
    for (const { name } of triggers) db.driver.exec(`DROP TRIGGER ${name}`);
  }
  queue.enqueueMany(Array.from({ length: DEPTH }, () => JOB));
  return { db, queue, path };
}

function close({ db, path }: Fixture): void {
  db.close();
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}

function measureClaimAck(setup: Setup): void {
  bench(`claim+ack: ${setup}`, async function* () {
    const f = await fixture(setup);
    yield {
      manual(): number {
        f.queue.enqueue(JOB);
        const t0 = performance.now();
        const job = f.queue.claimOne("bench-worker");
        do_not_optimize(job?.ack());
        return (performance.now() - t0) * 1e6;
      },
    };
    close(f);
  });
}

function measureEnqueue(setup: Setup): void {
  bench(`enqueue: ${setup}`, async function* () {
    const f = await fixture(setup);
    yield {
      manual(): number {
        const t0 = performance.now();
        do_not_optimize(f.queue.enqueue(JOB));
        return (performance.now() - t0) * 1e6;
      },
    };
    close(f);
  });
}

/**
 * claim+ack on the three setups in turn, `ROUNDS` times, rotating which goes first: a machine
 * whose load changes during the run slows all three alike, where mitata's cases, run one after
 * the other, can each meet a different load. Returns each setup's median in µs.
 */
async function interleavedMediansUs(): Promise<Map<Setup, number>> {
  const fixtures = await Promise.all(SETUPS.map(fixture));
  const times = SETUPS.map((): number[] => []);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < SETUPS.length; k++) {
        const i = (round + k) % SETUPS.length;
        const { queue } = fixtures[i];
        queue.enqueue(JOB);
        const t0 = performance.now();
        queue.claimOne("bench-worker")?.ack();
        times[i].push((performance.now() - t0) * 1000);
      }
    }
  } finally {
    fixtures.forEach(close);
  }
  return new Map(
    SETUPS.map((setup, i) => [setup, percentile(times[i].sort((a, b) => a - b), 0.5)]),
  );
}

/**
 * WAL frames one claim+ack writes (both transactions), with checkpoints off: the I/O an event
 * adds, free of timing noise.
 */
async function walFramesPerClaimAck(setup: Setup): Promise<number> {
  const f = await fixture(setup);
  try {
    f.queue.enqueueMany(Array.from({ length: WAL_OPS }, () => JOB));
    f.db.driver.get("PRAGMA wal_checkpoint(TRUNCATE)");
    f.db.driver.exec("PRAGMA wal_autocheckpoint = 0");
    const pageSize = f.db.driver.get<{ page_size: number }>("PRAGMA page_size")!.page_size;
    const before = statSync(`${f.path}-wal`).size;
    for (let i = 0; i < WAL_OPS; i++) f.queue.claimOne("bench-worker")?.ack();
    return (statSync(`${f.path}-wal`).size - before) / (pageSize + 24) / WAL_OPS;
  } finally {
    close(f);
  }
}

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** waitFor() lag after an ack made in this process, `WAITS` times. */
async function waitLagLocal(): Promise<number[]> {
  const f = await fixture("events off");
  f.db.driver.run("DELETE FROM _honker_live");
  const lags: number[] = [];
  try {
    for (let i = 0; i < WAITS; i++) {
      const id = f.queue.enqueue(JOB);
      const job = f.queue.claimOne("bench-worker");
      if (job?.id !== id) throw new Error("Cannot bench: the claim took another job");
      let ackedAt = 0;
      setTimeout(() => {
        job.ack();
        ackedAt = nowMs();
      }, 1);
      await f.queue.waitFor(id, { idlePollMs: null });
      lags.push(nowMs() - ackedAt);
    }
  } finally {
    close(f);
  }
  return lags;
}

/** waitFor() lag after an ack made by another process, `WAITS` times. */
async function waitLagRemote(): Promise<number[]> {
  const f = await fixture("events off");
  f.db.driver.run("DELETE FROM _honker_live");
  const peer = spawnScript(PEER, ["ack", f.path, "bench"]);
  const out = new LineReader(peer);
  const lags: number[] = [];
  try {
    await out.waitFor(/^ready$/, 30_000);
    for (let i = 0; i < WAITS; i++) {
      const id = f.queue.enqueue(JOB);
      await f.queue.waitFor(id, { idlePollMs: null, timeoutMs: 10_000 });
      const settledAt = nowMs();
      const acked = await out.waitFor(new RegExp(`^acked ${id} `), 10_000);
      lags.push(settledAt - Number(acked.split(" ")[2]));
      await sleep(2);
    }
  } finally {
    peer.kill("SIGKILL");
    await exited(peer);
    close(f);
  }
  return lags;
}

function lagLine(what: string, lags: number[], target?: number): string {
  const sorted = [...lags].sort((a, b) => a - b);
  const [p50, p90, p99] = [0.5, 0.9, 0.99].map((p) => percentile(sorted, p));
  const verdict = target === undefined
    ? ""
    : `   target p50 ≤ ${target} ms: ${p50 <= target ? "met" : "NOT MET"}`;
  return `${what.padEnd(38)} p50 ${p50.toFixed(3)} ms  p90 ${p90.toFixed(3)} ms  ` +
    `p99 ${p99.toFixed(3)} ms  (n=${lags.length})${verdict}`;
}

async function main(): Promise<void> {
  try {
    console.log(
      `events_bench on ${runtimeKey()}, driver ${driverName}, ${DEPTH} pending` +
        (QUICK ? " (--quick)" : ""),
    );
    group("claim+ack 1 job", () => summary(() => SETUPS.forEach(measureClaimAck)));
    group("enqueue 1 job", () => summary(() => SETUPS.forEach(measureEnqueue)));
    const { benchmarks } = await run({ throw: true });
    const stats = new Map(benchmarks.map((t) => [t.alias, t.runs[0]?.stats]));
    const p50 = new Map([...stats].map(([name, st]) => [name, st?.p50 ?? NaN]));
    const ratio = (a: string, b: string) => (p50.get(a) ?? NaN) / (p50.get(b) ?? NaN);
    const meanOnOff = (stats.get("claim+ack: events on")?.avg ?? NaN) /
      (stats.get("claim+ack: events off")?.avg ?? NaN);
    const verdict = (x: number) =>
      `target ≤ ${RATIO_TARGET}x: ${x <= RATIO_TARGET ? "met" : "NOT MET"}`;
    const medians = await interleavedMediansUs();
    const us = (setup: Setup) => medians.get(setup) ?? NaN;
    const onOff = us("events on") / us("events off");
    const frames = new Map<Setup, number>();
    for (const setup of SETUPS) frames.set(setup, await walFramesPerClaimAck(setup));
    console.log(`\n${runtimeKey()} · ${driverName}`);
    console.log(
      `claim+ack interleaved, median µs       events on ${us("events on").toFixed(1)}, ` +
        `events off ${us("events off").toFixed(1)}, no triggers ${us("no triggers").toFixed(1)} ` +
        `(n=${ROUNDS} each)`,
    );
    console.log(`claim+ack events on / events off       ${onOff.toFixed(2)}x   ${verdict(onOff)}`);
    console.log(
      `  mitata's medians / means             ${
        ratio("claim+ack: events on", "claim+ack: events off").toFixed(2)
      }x / ${meanOnOff.toFixed(2)}x (cases run one after the other)`,
    );
    console.log(
      `claim+ack events off / no triggers     ${
        (us("events off") / us("no triggers")).toFixed(2)
      }x   (what the triggers cost a queue without events)`,
    );
    const f = (setup: Setup) => (frames.get(setup) ?? NaN).toFixed(2);
    console.log(
      `WAL frames per claim+ack               events on ${f("events on")}, events off ` +
        `${f("events off")}, no triggers ${f("no triggers")}`,
    );
    console.log(
      `enqueue events on / events off         ${
        ratio("enqueue: events on", "enqueue: events off").toFixed(2)
      }x`,
    );
    console.log(
      `enqueue events off / no triggers       ${
        ratio("enqueue: events off", "enqueue: no triggers").toFixed(2)
      }x`,
    );
    console.log(lagLine("waitFor after an ack, same process", await waitLagLocal()));
    console.log(
      lagLine("waitFor after an ack, other process", await waitLagRemote(), WAIT_P50_TARGET_MS),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
