/**
 * Cross-process wake-up benchmark: how soon a waiting process learns of another process's
 * commit, what an idle waiter costs, and enqueue → handler start across processes.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/wake_bench.ts
 * node_modules/.bin/deno run -A bench/wake_bench.ts
 * node_modules/.bin/bun bench/wake_bench.ts
 * node_modules/.bin/node --no-warnings bench/wake_bench.ts --all   # all three, one table
 * ```
 *
 * Options: `--all`, `--runtimes=node,deno,bun`, `--modes=fs,poll,ext,work,work-ffi,bullmq`,
 * `--commits=500`, `--seed=42`, `--json` (one JSON line instead of tables).
 *
 * Each case runs on a fresh file: a Node writer (`_wake_writer.ts`) makes autocommit enqueues at
 * seeded random 2–20 ms gaps and notes the time each commit returned; the waiter
 * (`_wake_waiter.ts`, on the runtime under test) notes when it woke and the largest id it then
 * saw. Both clocks are the monotonic clock pinned to a `Date.now()` tick edge; a ping over the
 * pipes from this process checks how well the two agree. After the commits and a 400 ms pause
 * (longer than the fs backstop poll) and 10 s more for the runtime's own after-work, the idle
 * waiter's CPU is measured over 10 s; for `fs` cases, so is that of a process of the same runtime
 * that imported honker-ts and opened nothing (the runtime's floor).
 *
 * `bullmq` is the end-to-end anchor: the same writer adds the jobs with BullMQ's `Queue.add` to a
 * `redis-server` the case starts on localhost, and a BullMQ `Worker` on the runtime under test
 * notes when each processor starts. It needs `redis-server` on PATH (`apt-get install
 * redis-server`); without it the case is skipped with that reason. The targets table reports
 * honker-ts's end-to-end figures as ratios to BullMQ's from the same run.
 *
 * To see where a wake's time goes (event arrival, probes, promise hops, run-queue waits), run
 * `bench/_wake_trace.ts` (see its header).
 *
 * @module
 */

import { mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runtimeKey } from "../tests/_runtime.ts";
import { Child, cleanUp, cleanUpOnExit, removeTempDir, tempDir } from "./_wake_child.ts";
import type { Runtime } from "./_wake_child.ts";
import { sleep, wallClock } from "./_wake_common.ts";
import { pipeOffset } from "./_pipe_clock.ts";
import { bullmqSkipReason, startRedis } from "./_wake_bullmq.ts";
import type { LocalRedis } from "./_wake_bullmq.ts";
import {
  anchorTable,
  clockTable,
  latencies,
  latencyTable,
  summarise,
  targetTable,
} from "./_wake_report.ts";
import type { CaseMode, CaseResult } from "./_wake_report.ts";

const WRITER = "bench/_wake_writer.ts";
const WAITER = "bench/_wake_waiter.ts";
const SELF = "bench/wake_bench.ts";
const GAP_MIN_MS = 2;
const GAP_MAX_MS = 20;
/** Longer than the fs source's 250 ms backstop poll, so a missed event is still caught. */
const SETTLE_MS = 400;
/**
 * Before idle CPU is measured: the runtime's own after-work is not idle cost. V8's memory
 * reducer runs a full mark-compact about 8 s after activity stops (seen with --trace-gc: one
 * 40 ms burst that tripled a 3 s window), and the concurrent compilers run on for a second.
 */
const IDLE_SETTLE_MS = 10_000;
/** auto mode decides fs vs poll within FS_PROBE_TIMEOUT_MS (1 s) of open. */
const AUTO_SETTLE_MS = 1200;
const RUNTIMES = ["node", "deno", "bun"] as const;
const MODES = ["fs", "poll", "ext", "work", "work-ffi", "bullmq"] as const;

interface Args {
  all: boolean;
  json: boolean;
  runtimes: Runtime[];
  modes: CaseMode[];
  commits: number;
  seed: number;
}

function oneOf<T extends string>(values: string[], allowed: readonly T[], what: string): T[] {
  for (const v of values) {
    if (!allowed.includes(v as T)) {
      throw new TypeError(`Cannot run the wake benchmark: unknown ${what} "${v}" (${allowed})`);
    }
  }
  return values as T[];
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const all = argv.includes("--all");
  return {
    all,
    json: argv.includes("--json"),
    runtimes: oneOf(
      value("runtimes")?.split(",") ?? (all ? [...RUNTIMES] : [runtimeKey()]),
      RUNTIMES,
      "runtime",
    ),
    modes: oneOf(value("modes")?.split(",") ?? [...MODES], MODES, "mode"),
    commits: Number(value("commits") ?? 500),
    seed: Number(value("seed") ?? 42),
  };
}

const clock = wallClock();

/** Idle CPU in ms per s: the mean over the waiter's window and its median 1 s sample. */
interface IdleCpu {
  mean: number;
  median: number;
}

async function idleCpu(waiter: Child): Promise<IdleCpu> {
  waiter.send("idle");
  const got = await waiter.expect(["idleCpuMsPerS"], 30_000);
  return { mean: got.idleCpuMsPerS as number, median: got.idleMedianMsPerS as number };
}

/** The idle CPU of a process of `runtime` that imported honker-ts and opened nothing. */
async function idleFloor(runtime: Runtime, path: string): Promise<IdleCpu> {
  const bare = new Child(`${runtime} bare waiter`, runtime, WAITER, [path, "bare"]);
  try {
    await bare.expect(["ready"], 30_000);
    await sleep(SETTLE_MS + IDLE_SETTLE_MS);
    const floor = await idleCpu(bare);
    bare.send("stop");
    await bare.expect(["wakes"], 30_000);
    return floor;
  } finally {
    bare.kill();
    await bare.exited;
  }
}

async function runCase(runtime: Runtime, mode: CaseMode, args: Args): Promise<CaseResult> {
  if (mode === "bullmq") {
    const skip = bullmqSkipReason();
    if (skip) return { runtime, mode, skip };
  }
  const dir = tempDir(mkdtempSync(join(tmpdir(), "honker-ts-wake-bench-")));
  const path = join(dir, "wake.db");
  const gaps = [String(args.commits), String(args.seed), String(GAP_MIN_MS), String(GAP_MAX_MS)];
  let redis: LocalRedis | undefined;
  let writer: Child | undefined;
  let waiter: Child | undefined;
  try {
    redis = mode === "bullmq" ? await startRedis() : undefined;
    const port = redis ? [String(redis.connection.port)] : [];
    writer = new Child("writer", "node", WRITER, [path, ...gaps, ...port]);
    const w = await writer.expect(["ready"], 30_000);
    waiter = new Child(`${runtime} ${mode} waiter`, runtime, WAITER, [path, mode, ...port]);
    const r = await waiter.expect(["ready", "skip"], 30_000);
    if ("skip" in r) return { runtime, mode, skip: String(r.skip) };
    const pw = await pipeOffset(writer, clock);
    const pr = await pipeOffset(waiter, clock);
    waiter.send("listen");
    await sleep(mode.startsWith("work") || mode === "bullmq" ? AUTO_SETTLE_MS : 300);
    writer.send("run");
    const { committed } = await writer.expect(["committed"], 120_000);
    await sleep(SETTLE_MS);
    let idle: IdleCpu | undefined;
    let floor: IdleCpu | undefined;
    if (!mode.startsWith("work")) {
      await sleep(IDLE_SETTLE_MS);
      idle = await idleCpu(waiter);
    }
    if (mode === "fs") floor = await idleFloor(runtime, path);
    writer.send("recal");
    const { driftMs: writerDriftMs } = await writer.expect(["driftMs"], 5000);
    waiter.send("stop");
    const end = await waiter.expect(["wakes"], 30_000);
    writer.send("exit");
    await Promise.all([writer.exited, waiter.exited]);
    const wakes = end.wakes as Array<[number, number]>;
    const lat = latencies(committed as Array<[number, number]>, wakes, mode);
    return {
      runtime,
      mode,
      wakeMode: String(end.wakeMode),
      ...summarise(lat, wakes.length),
      idleCpuMsPerS: idle?.mean,
      idleMedianMsPerS: idle?.median,
      idleFloorMsPerS: floor?.mean,
      idleFloorMedianMsPerS: floor?.median,
      clock: {
        writerUncertaintyMs: w.uncertaintyMs as number,
        waiterUncertaintyMs: r.uncertaintyMs as number,
        pipeOffsetMs: pr.offsetMs - pw.offsetMs,
        pipeBoundMs: pr.boundMs + pw.boundMs,
        waiterRawSkewMs: r.rawSkewMs as number,
        writerDriftMs: writerDriftMs as number,
        waiterDriftMs: end.driftMs as number,
      },
    };
  } finally {
    writer?.kill();
    waiter?.kill();
    await Promise.all([writer?.exited, waiter?.exited]);
    await redis?.stop();
    removeTempDir(dir);
  }
}

/** Every mode on the runtime running this file. */
async function runHere(args: Args): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const mode of args.modes) {
    try {
      results.push(await runCase(runtimeKey(), mode, args));
    } catch (error) {
      results.push({ runtime: runtimeKey(), mode, skip: `failed: ${(error as Error).message}` });
    }
  }
  return results;
}

/** This script, with --json, on each runtime in turn. */
async function runAll(args: Args): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const pass = [`--modes=${args.modes}`, `--commits=${args.commits}`, `--seed=${args.seed}`];
  for (const runtime of args.runtimes) {
    process.stderr.write(`wake_bench: running on ${runtime}…\n`);
    const child = new Child(`wake_bench on ${runtime}`, runtime, SELF, ["--json", ...pass]);
    try {
      const { results: got } = await child.expect(["results"], 300_000);
      results.push(...(got as CaseResult[]));
    } catch (error) {
      results.push({ runtime, mode: "fs", skip: `failed: ${(error as Error).message}` });
    } finally {
      child.kill();
      await child.exited;
    }
  }
  return results;
}

function report(results: CaseResult[], args: Args, startedAt: number): void {
  const load = loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(
    `\nCross-process wake-up: ${args.commits} commits per case at ${GAP_MIN_MS}–${GAP_MAX_MS} ms ` +
      `gaps (seed ${args.seed}); writer: Node node:sqlite; ${cpus().length} CPUs, ` +
      `load ${load}; ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`,
  );
  console.log(latencyTable(results));
  console.log("\nClock agreement (latencies are waiter clock − writer clock):\n");
  console.log(clockTable(results));
  console.log("\nTargets:\n");
  console.log(targetTable(results));
  console.log("\nEnd-to-end against BullMQ on a local Redis, same run (honker-ts ÷ BullMQ):\n");
  console.log(anchorTable(results));
}

async function main(): Promise<void> {
  cleanUpOnExit();
  const args = parseArgs(process.argv.slice(2));
  const startedAt = performance.now();
  const elsewhere = args.all || args.runtimes.some((r) => r !== runtimeKey());
  const results = elsewhere ? await runAll(args) : await runHere(args);
  if (args.json) console.log(JSON.stringify({ results }));
  else report(results, args, startedAt);
}

try {
  await main();
} finally {
  cleanUp();
}
