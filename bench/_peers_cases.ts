/**
 * The peers benchmark's cases: how each one is played by child processes (`_peers_child.ts`)
 * on one system and runtime, and the figures it yields. Every child is killed when its case
 * ends, also when it fails.
 *
 * @module
 */

import { Child } from "./_wake_child.ts";
import type { Runtime } from "./_wake_child.ts";
import { sleep, wallClock } from "./_wake_common.ts";
import { percentile } from "./_wake_report.ts";
import { pipeOffset } from "./_pipe_clock.ts";
import type { PipeOffset } from "./_pipe_clock.ts";
import type { RoleOptions } from "./_peers_child.ts";
import type { SystemId, SystemPlace } from "./_peers_system.ts";

const CHILD = "bench/_peers_child.ts";
/** The longest a child may take to answer, whatever it is doing. */
const ANSWER_MS = 180_000;
/** Before the producer starts: `auto` wake mode settles on fs or poll within 1 s of open. */
const SETTLE_MS = 1200;
const SHARED_PROCESSES = 4;
const SHARED_CONCURRENCY = 8;
/**
 * honker-ts's second 4 × 8 drain claims this many jobs ahead of each process's free slots
 * (`work({ prefetch })`): its claims and ack batches are as large as at concurrency 32, with
 * 8 handlers running.
 */
export const SHARED_PREFETCH = 24;

/** Job counts and durations of one run of each case. */
export interface Sizes {
  enqueue: number;
  bulk: number;
  bulkSize: number;
  drain: number;
  shared: number;
  /** Jobs every drain handles before its clock starts (JIT and caches warm, for every system). */
  drainWarmup: number;
  idleJobs: number;
  idleWarmup: number;
  idleGapMs: number;
  loadRatePerS: number;
  loadJobs: number;
  loadWarmup: number;
  cpuWarmMs: number;
  cpuWindowMs: number;
  trickleMs: number;
}

/** Sizes for a full run: each case takes about 1–3 s per system. */
export const FULL: Sizes = {
  enqueue: 20_000,
  bulk: 100_000,
  bulkSize: 100,
  drain: 20_000,
  shared: 30_000,
  drainWarmup: 10_000,
  idleJobs: 400,
  idleWarmup: 20,
  idleGapMs: 5,
  loadRatePerS: 1000,
  loadJobs: 3000,
  loadWarmup: 300,
  cpuWarmMs: 1000,
  cpuWindowMs: 10_000,
  trickleMs: 100,
};

/** Sizes for `--quick`: every case runs, briefly (the smoke test). */
export const QUICK: Sizes = {
  ...FULL,
  enqueue: 500,
  bulk: 2000,
  drain: 500,
  shared: 1000,
  drainWarmup: 100,
  idleJobs: 40,
  idleWarmup: 5,
  loadJobs: 300,
  loadWarmup: 30,
  cpuWarmMs: 200,
  cpuWindowMs: 500,
};

/** A system on a runtime: one column of one row. */
export interface Target {
  system: SystemId;
  runtime: Runtime;
}

/** The figures of one run, by name. */
export type Metrics = Record<string, number>;

/** One case: which systems take part, and how a run goes. */
export interface CaseDef {
  key: string;
  /**
   * Cases of one group, run together, take turns repetition by repetition (all of the first's
   * runs, then all of the next's, then the second repetition), so that a drift in the machine's
   * load does not fall on one of the cases that a target compares.
   */
  group?: string;
  systems: readonly SystemId[];
  run(target: Target, place: SystemPlace, sizes: Sizes): Promise<Metrics>;
}

type Spawn = (role: string, options: RoleOptions) => Child;

/** Runs `body` with a spawner whose children all die when it ends. */
async function withChildren<T>(
  target: Target,
  place: SystemPlace,
  body: (spawn: Spawn) => Promise<T>,
): Promise<T> {
  const children: Child[] = [];
  const spawn: Spawn = (role, options) => {
    const args = [target.system, role, JSON.stringify({ ...place, ...options })];
    const name = `${target.system} on ${target.runtime}, ${role}`;
    const child = new Child(name, target.runtime, CHILD, args);
    children.push(child);
    return child;
  };
  try {
    return await body(spawn);
  } finally {
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.exited));
  }
}

/** One child that gets ready, is told to go, and answers with `key`. */
function oneShot(target: Target, place: SystemPlace, role: string, options: RoleOptions) {
  return withChildren(target, place, async (spawn) => {
    const child = spawn(role, options);
    await child.expect(["ready"], ANSWER_MS);
    child.send("go");
    return await child.expect(["ms"], ANSWER_MS);
  });
}

function ratePerS(n: number, ms: number): Metrics {
  return { rate: (n * 1000) / ms };
}

function expectHandled(handled: number, wanted: number, what: string): void {
  if (handled !== wanted) {
    throw new Error(`Cannot measure ${what}: ${handled} of ${wanted} jobs were handled`);
  }
}

/** Follows a `work` child's `{handled}` reports until its final answer. */
async function follow(child: Child, onCount: (handled: number) => void) {
  for (;;) {
    const message = await child.expect(["handled"], ANSWER_MS);
    if ("final" in message) return message;
    onCount(message.handled as number);
  }
}

/** This process's clock, against which the latency cases measure their children's. */
const CLOCK = wallClock();

/**
 * `work` children: started together, followed, stopped once `enough(total)` says so. With
 * `clocked`, each child's clock offset is measured first (`offsets`, in `children`'s order).
 */
async function workers(
  spawn: Spawn,
  processes: number,
  concurrency: number,
  options: { prefetch?: number; clocked?: boolean } = {},
) {
  const { prefetch, clocked = false } = options;
  const children = Array.from(
    { length: processes },
    () => spawn("work", { concurrency, prefetch }),
  );
  await Promise.all(children.map((child) => child.expect(["ready"], ANSWER_MS)));
  // Before follow() below takes their messages: a Child serves one expect() at a time.
  const offsets: PipeOffset[] = [];
  for (const child of clocked ? children : []) offsets.push(await pipeOffset(child, CLOCK));
  const counts = children.map(() => 0);
  // One goal at a time: until() may be called again (a warm-up's count, then the total).
  let wanted = Infinity;
  let reached = () => {};
  const check = () => {
    if (counts.reduce((a, b) => a + b, 0) >= wanted) (wanted = Infinity, reached());
  };
  const finals = Promise.all(children.map((child, i) =>
    follow(child, (handled) => {
      counts[i] = handled;
      check();
    })
  ));
  finals.catch(() => {}); // Awaited in stop(); a child that dies also ends until().
  return {
    children,
    offsets,
    go: () => children.forEach((child) => child.send("go")),
    /** Resolves once `total` jobs were reported handled, rejects if a child dies first. */
    until: (total: number) => {
      const enough = new Promise<void>((resolve) => (reached = resolve));
      wanted = total;
      check();
      return Promise.race([enough, finals.then(() => {})]);
    },
    stop: async () => {
      children.forEach((child) => child.send("stop"));
      const got = await finals;
      const sum = (key: string) => got.reduce((a, m) => a + Number(m[key] ?? 0), 0);
      return { got, handled: sum("handled"), statements: sum("statements") };
    },
  };
}

async function enqueue(t: Target, place: SystemPlace, n: number, bulk: number) {
  const { ms } = await oneShot(t, place, "enqueue", { n, bulk });
  return ratePerS(n, ms as number);
}

async function drain(t: Target, place: SystemPlace, sizes: Sizes, concurrency: number) {
  const { drain: n, drainWarmup: warmup } = sizes;
  const { ms, handled } = await oneShot(t, place, "drain", { n, concurrency, warmup });
  expectHandled(handled as number, n, `a drain at concurrency ${concurrency}`);
  return ratePerS(n, ms as number);
}

/** 4 processes drain; the clock starts once they reported `drainWarmup` jobs handled. */
function drainShared(
  t: Target,
  place: SystemPlace,
  sizes: Sizes,
  prefetch?: number,
): Promise<Metrics> {
  const { shared: n, drainWarmup: warmup } = sizes;
  return withChildren(t, place, async (spawn) => {
    await spawn("fill", { n: n + warmup }).expect(["filled"], ANSWER_MS);
    const team = await workers(spawn, SHARED_PROCESSES, SHARED_CONCURRENCY, { prefetch });
    team.go();
    await team.until(warmup);
    const t0 = performance.now();
    await team.until(n + warmup);
    const ms = performance.now() - t0;
    expectHandled((await team.stop()).handled, n + warmup, "a drain by 4 processes");
    return ratePerS(n, ms);
  });
}

/**
 * Waits until `child` has opened the fresh file (it is ready) before the next process opens it:
 * two processes creating one file at once can fail (the WAL switch returns SQLITE_BUSY now and
 * then), which is not what these cases measure.
 */
async function firstOpener(child: Child): Promise<Child> {
  await child.expect(["ready"], ANSWER_MS);
  return child;
}

/**
 * A producer process and worker processes; latencies from stamp to handler start, each corrected
 * by the offset between its worker's clock and the producer's (bench/_pipe_clock.ts says why).
 */
function latency(
  t: Target,
  place: SystemPlace,
  team: { processes: number; concurrency: number },
  produce: RoleOptions,
): Promise<Metrics> {
  return withChildren(t, place, async (spawn) => {
    const producer = await firstOpener(spawn("produce", produce));
    const producerClock = await pipeOffset(producer, CLOCK);
    const crew = await workers(spawn, team.processes, team.concurrency, { clocked: true });
    crew.go();
    await sleep(SETTLE_MS);
    producer.send("go");
    const { sent } = await producer.expect(["sent"], ANSWER_MS);
    await crew.until(sent as number);
    const { got, handled, statements } = await crew.stop();
    expectHandled(handled, sent as number, "latency");
    // What each worker's clock reads ahead of the producer's, taken off its latencies.
    const ahead = crew.offsets.map(({ offsetMs }) => offsetMs - producerClock.offsetMs);
    const lat = got.flatMap((m, i) => (m.latencies as number[]).map((ms) => ms - ahead[i]))
      .sort((a, b) => a - b);
    const figures: Metrics = {
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.at(-1)!,
      // Shown in each run's line: the correction made (the widest), and how far off it can be.
      clockAhead: ahead.reduce((a, b) => Math.abs(b) > Math.abs(a) ? b : a, 0),
      clockBound: Math.max(...crew.offsets.map((o) => o.boundMs)) + producerClock.boundMs,
    };
    if (statements > 0) figures.statements = statements / handled;
    // Every worker process's CPU (all its threads) from "go" to "stop", per job handled: where a
    // run's CPU goes, on a 2-core machine also why its latency grows. A Redis server's is not in it.
    figures.cpuPerJob = got.reduce((sum, m) => sum + Number(m.cpuMs ?? 0), 0) / handled;
    return figures;
  });
}

/** One worker idle while a job trickles in: its CPU per second and its RSS. */
function idleCpu(t: Target, place: SystemPlace, sizes: Sizes, concurrency: number) {
  return withChildren(t, place, async (spawn) => {
    const producer = await firstOpener(spawn("produce", { count: 1e9, gapMs: sizes.trickleMs }));
    const crew = await workers(spawn, 1, concurrency);
    crew.go();
    producer.send("go");
    await sleep(sizes.cpuWarmMs);
    crew.children[0].send("mark");
    await sleep(sizes.cpuWindowMs);
    const { got: [final] } = await crew.stop();
    producer.send("stop");
    await producer.expect(["sent"], ANSWER_MS);
    const cpu = ((final.cpuMs as number) * 1000) / (final.wallMs as number);
    return { cpu, rss: final.rssMb as number };
  });
}

const PEERS: readonly SystemId[] = ["honker", "bullmq", "bullmq-aof", "plainjob"];
const WITH_FLOOR: readonly SystemId[] = [...PEERS, "floor"];

/** Every case, in table order. */
export const CASES: readonly CaseDef[] = [
  { key: "enqueue", systems: WITH_FLOOR, run: (t, p, s) => enqueue(t, p, s.enqueue, 1) },
  {
    key: "enqueue-bulk",
    systems: WITH_FLOOR,
    run: (t, p, s) => enqueue(t, p, s.bulk, s.bulkSize),
  },
  { key: "drain-1", systems: WITH_FLOOR, run: (t, p, s) => drain(t, p, s, 1) },
  { key: "drain-8", systems: PEERS, run: (t, p, s) => drain(t, p, s, 8) },
  { key: "drain-64", systems: PEERS, run: (t, p, s) => drain(t, p, s, 64) },
  { key: "drain-4x8", systems: WITH_FLOOR, run: (t, p, s) => drainShared(t, p, s) },
  {
    key: "drain-4x8-prefetch",
    systems: ["honker"],
    run: (t, p, s) => drainShared(t, p, s, SHARED_PREFETCH),
  },
  {
    key: "idle-latency",
    systems: PEERS,
    run: (t, p, s) =>
      latency(t, p, { processes: 1, concurrency: 1 }, {
        count: s.idleJobs + s.idleWarmup,
        gapMs: s.idleGapMs,
        warmup: s.idleWarmup,
      }),
  },
  {
    key: "load-latency",
    systems: PEERS,
    run: (t, p, s) =>
      latency(t, p, { processes: SHARED_PROCESSES, concurrency: SHARED_CONCURRENCY }, {
        count: s.loadJobs + s.loadWarmup,
        ratePerS: s.loadRatePerS,
        warmup: s.loadWarmup,
      }),
  },
  { key: "idle-cpu-1", group: "idle-cpu", systems: PEERS, run: (t, p, s) => idleCpu(t, p, s, 1) },
  {
    key: "idle-cpu-64",
    group: "idle-cpu",
    systems: PEERS,
    run: (t, p, s) => idleCpu(t, p, s, 64),
  },
];
