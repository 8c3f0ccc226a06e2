/**
 * honker-ts beside its peers, in one run: BullMQ on a local Redis (persistence off, and with an
 * append-only file fsynced every second), plainjob on better-sqlite3, and the raw SQLite floor
 * (the least a queue on honker's table can do). Issue #16's table, and its targets.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/peers.ts                  # honker-ts on Node
 * node_modules/.bin/node --no-warnings bench/peers.ts --runtimes=node,deno,bun
 * node_modules/.bin/deno run -A bench/peers.ts                         # honker-ts on Deno
 * node_modules/.bin/bun bench/peers.ts                                 # honker-ts on Bun
 * node_modules/.bin/node --no-warnings bench/peers.ts --quick --only=drain-8,idle-latency
 * ```
 *
 * Options: `--runtimes=node,deno,bun` (the runtimes honker-ts and the floor run on; default:
 * the one running this file), `--only=case,…` (enqueue, enqueue-bulk, drain-1, drain-8,
 * drain-64, drain-4x8, drain-4x8-prefetch (honker-ts alone, with `prefetch`; its ratios are
 * against drain-4x8's peers, so run both), idle-latency, load-latency, idle-cpu-1,
 * idle-cpu-64), `--quick` (small sizes, one repetition: the smoke test), `--reps=3`,
 * `--driver=NAME` (honker-ts's and the floor's adapter; the runtime's default otherwise).
 *
 * Every run is its own processes (`_peers_child.ts`, started from node_modules/.bin) on a fresh
 * SQLite file on tmpfs (/dev/shm) or a fresh `redis-server` (BullMQ needs it on PATH; without
 * it BullMQ's columns say why). BullMQ and plainjob are Node libraries and run on Node only.
 * Each case runs every system in turn, three times over (A B C A B C A B C), and the table gives
 * the median of the three. The two idle CPU cases, whose ratio is a target, take turns
 * repetition by repetition (`CaseDef.group`), each over 10 s: over 3 s, one case after the
 * other, their ratio on one runtime moved between runs by as much as the target's ± 10 %.
 * Times are taken in the child around the timed part only, except for the 4-process drain,
 * timed here from the children's reports. Every drain, of every system, first handles 10,000
 * jobs untimed: the figure is a running worker's rate, not a fresh process's first second (JIT
 * warm-up made that 20–40 % lower for honker-ts and for BullMQ).
 * Latencies run from a producer process's wall-clock stamp (calibrated on `Date.now()`'s tick,
 * bench/_wake_common.ts) to the handler's start in a worker process.
 *
 * @module
 */

import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeKey } from "../tests/_runtime.ts";
import { listArg, readArgs, runBench, wholeNumberArg } from "./_args.ts";
import { driverArg } from "./_driver_arg.ts";
import { redisSkipReason, startRedis } from "./_redis.ts";
import type { LocalRedis } from "./_redis.ts";
import { cleanUp, cleanUpOnExit, freshTmpDir, removeTempDir, RUNTIMES } from "./_wake_child.ts";
import type { Runtime } from "./_wake_child.ts";
import { CASES, FULL, QUICK } from "./_peers_cases.ts";
import type { CaseDef, Metrics, Sizes, Target } from "./_peers_cases.ts";
import { figuresTable, notesText, Results } from "./_peers_report.ts";
import type { PlanItem } from "./_peers_report.ts";
import { targetLines } from "./_peers_targets.ts";
import { NODE_ONLY, SYSTEMS } from "./_peers_system.ts";
import type { SystemPlace } from "./_peers_system.ts";
import { PLAINJOB_POLL_MS } from "./_peers_plainjob.ts";

interface Args {
  runtimes: Runtime[];
  cases: CaseDef[];
  sizes: Sizes;
  reps: number;
  driver?: string;
}

function fail(message: string): never {
  throw new TypeError(`Cannot run the peers benchmark: ${message}`);
}

function parseArgs(argv: string[]): Args {
  // `--help` or `--rep=3` is refused by name: ignored, it ran the whole benchmark (13 minutes).
  const options = ["runtimes", "only", "reps", "driver"];
  const { values, flags } = readArgs(argv, options, ["quick"], fail);
  const value = (name: string) => values.get(name);
  const quick = flags.has("quick");
  const keys = listArg(
    value("only") ?? CASES.map((c) => c.key).join(","),
    CASES.map((c) => c.key),
    "case",
    fail,
  );
  const reps = wholeNumberArg("reps", value("reps"), quick ? 1 : 3, fail);
  return {
    runtimes: listArg(value("runtimes") ?? runtimeKey(), RUNTIMES, "runtime", fail),
    cases: CASES.filter((c) => keys.includes(c.key)),
    sizes: quick ? QUICK : FULL,
    reps,
    driver: value("driver") === undefined ? undefined : driverArg(argv),
  };
}

/** Every system and runtime a case runs on, in the order each repetition runs them. */
function targetsOf(caseDef: CaseDef, runtimes: readonly Runtime[]): Target[] {
  return SYSTEMS.filter((s) => caseDef.systems.includes(s)).flatMap((system) =>
    NODE_ONLY.includes(system)
      ? [{ system, runtime: "node" as Runtime }]
      : runtimes.map((runtime) => ({ system, runtime }))
  );
}

/**
 * The cases in run order, as groups: each group's repetitions run in turn (`CaseDef.group`); a
 * case of no group is a group of its own.
 */
function caseGroups(cases: readonly CaseDef[], runtimes: readonly Runtime[]) {
  const groups: { key: string | undefined; runs: { caseDef: CaseDef; target: Target }[] }[] = [];
  for (const caseDef of cases) {
    const runs = targetsOf(caseDef, runtimes).map((target) => ({ caseDef, target }));
    const last = groups.at(-1);
    if (caseDef.group !== undefined && last?.key === caseDef.group) last.runs.push(...runs);
    else groups.push({ key: caseDef.group, runs });
  }
  return groups.map((g) => g.runs);
}

/** Runs one case on one target on a fresh file or a fresh Redis. */
async function runOnce(caseDef: CaseDef, target: Target, args: Args): Promise<Metrics> {
  const dir = freshTmpDir("honker-ts-peers-");
  let redis: LocalRedis | undefined;
  try {
    const place: SystemPlace = { path: join(dir, "queue.db") };
    if (args.driver) place.driver = args.driver as SystemPlace["driver"];
    if (target.system === "bullmq" || target.system === "bullmq-aof") {
      redis = await startRedis(target.system === "bullmq-aof" ? { aofDir: dir } : {});
      place.redisPort = redis.connection.port;
    }
    return await caseDef.run(target, place, args.sizes);
  } finally {
    await redis?.stop();
    removeTempDir(dir);
  }
}

function brief(metrics: Metrics): string {
  return Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(k === "rate" ? 0 : 3)}`)
    .join(", ");
}

async function runAll(args: Args, results: Results): Promise<PlanItem[]> {
  const redisSkip = redisSkipReason();
  const plan = args.cases.flatMap((c) => targetsOf(c, args.runtimes).map((t) => ({ c, t })));
  let done = 0;
  for (const group of caseGroups(args.cases, args.runtimes)) {
    for (let rep = 1; rep <= args.reps; rep++) {
      for (const { caseDef, target } of group) {
        const label = `${caseDef.key} ${target.system} on ${target.runtime}, run ${rep}`;
        process.stderr.write(`peers [${++done}/${plan.length * args.reps}] ${label}: `);
        if (redisSkip && target.system.startsWith("bullmq")) {
          results.fail(caseDef.key, target, redisSkip);
          process.stderr.write(`skipped (${redisSkip})\n`);
          continue;
        }
        try {
          const metrics = await runOnce(caseDef, target, args);
          results.add(caseDef.key, target, metrics);
          process.stderr.write(`${brief(metrics)}\n`);
        } catch (error) {
          const why = (error as Error).message;
          results.fail(caseDef.key, target, `failed: ${why}`);
          process.stderr.write(`failed: ${why}\n`);
        }
      }
    }
  }
  return plan.map(({ c, t }) => ({ caseKey: c.key, target: t }));
}

function sizesText({ sizes: s }: Args): string {
  const n = (x: number) => x.toLocaleString("en");
  const drains = `${n(s.drain)} jobs (4 × 8: ${n(s.shared)}) after ${n(s.drainWarmup)} untimed`;
  return `Sizes: enqueue ${n(s.enqueue)} jobs one per call and ${n(s.bulk)} ${s.bulkSize} per ` +
    `call; drains of ${drains}; idle latency ${n(s.idleJobs)} ` +
    `jobs ${s.idleGapMs} ms apart; load ${n(s.loadJobs)} jobs at ${n(s.loadRatePerS)}/s; idle ` +
    `CPU over ${s.cpuWindowMs / 1000} s with a job every ${s.trickleMs} ms (the worker process's ` +
    `own CPU and RSS: not Redis's). Peers run on Node; plainjob polls every ${PLAINJOB_POLL_MS} ms.`;
}

function report(args: Args, results: Results, plan: PlanItem[], seconds: number): void {
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(
    `\nhonker-ts and its peers: median of ${args.reps} interleaved run(s) per figure; ` +
      `${cpus().length} CPUs, load ${load}; ${seconds.toFixed(0)} s. Ratios are honker-ts ÷ ` +
      `the column: above 1 is better for jobs/s, below 1 for the rest.\n${sizesText(args)}\n`,
  );
  console.log(figuresTable(results, args.runtimes, args.cases.map((c) => c.key)));
  const notes = notesText(results, plan);
  if (notes) console.log(`\nMissing figures:\n${notes}`);
  console.log(`\nTargets of issue #16 (honker-ts on each runtime, peers on Node):\n`);
  console.log(targetLines(results, args.runtimes));
}

async function main(): Promise<void> {
  cleanUpOnExit();
  const args = parseArgs(process.argv.slice(2));
  const startedAt = performance.now();
  const results = new Results();
  const plan = await runAll(args, results);
  report(args, results, plan, (performance.now() - startedAt) / 1000);
}

try {
  await runBench(main);
} finally {
  cleanUp();
}
