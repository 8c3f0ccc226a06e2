/**
 * The multi-runtime torture run: Node, Deno and Bun processes hammer one honker file at once,
 * with the faults a real deployment has, then everything stops cleanly and the invariants are
 * checked from the file alone. Prints a summary and exits 1 on any violation.
 *
 * The processes: 3 producers; 6 workers whose handlers throw at random and ack inside their own
 * transaction; 3 batch workers (8 slots and 8 jobs
 * claimed ahead each) whose handlers only return a value or throw, so
 * that work()'s batched acks and retries complete their jobs (a queue with events on); 2 stream subscribers
 * whose loop bodies throw at random (each then subscribes again under the same name); a scheduler
 * candidate per runtime, each adding the `@every 1s` task at start as boot code does; a locker
 * that holds the write lock for seconds at random. Workers, subscribers, schedulers and the
 * locker are SIGKILLed at random (the locker also mid-hold) and restarted at once.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings tests/torture/run.ts --seconds 60
 * npm run torture -- --seconds 600
 * ```
 *
 * Options: `--seconds` (60); `--job-rate`, `--batch-job-rate` and `--event-rate` per producer per
 * second (30, 30, 10); SIGKILL probabilities per process per second: `--kill-probability` (workers
 * and batch workers),
 * `--subscriber-kill-probability`, `--scheduler-kill-probability`, `--locker-kill-probability`
 * (0.01 each); `--min-kills` of each of those roles forced from mid-run on when the dice did not
 * kill (1; a forced scheduler kill is the leader's, a forced locker kill is mid-hold);
 * `--self-kill-probability` of a batch worker SIGKILLing itself as a handler returns, before
 * work() committed its outcome (0.002 per returned handler; restarted like the others; one is
 * asked to from mid-run on when none did);
 * `--event-throw-probability` of a subscriber's loop body (0.03); `--lockers` (1);
 * `--hold-min-s`/`--hold-max-s` of a hold (1, 6) and `--hold-gap-min-s`/`--hold-gap-max-s` between
 * holds (2, 8), which set the roles' visibility and busy timeouts to the longest hold plus 4 s
 * (at least 10 s); `--sample-every` seconds (5); `--drain-timeout` seconds (90); `--db` (a fresh
 * temporary file); `--keep` (keep the file); `--samples-csv` (write every resource sample to this
 * file); `--strict` (resource growth over 10 % after warm-up, or any fd or thread growth, fails
 * the run instead of warning).
 *
 * @module
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { open } from "../../mod.ts";
import type { Database } from "../../mod.ts";
import { checkFile } from "./_check.ts";
import { Fleet } from "./_fleet.ts";
import type { Member, Runtime } from "./_fleet.ts";
import { parseOptions } from "./_options.ts";
import type { KillableRole } from "./_options.ts";
import { resourceTable, summaryTable } from "./_report.ts";
import type { RunFacts } from "./_report.ts";
import { Sampler } from "./_sampler.ts";
import {
  BATCH_QUEUE,
  JOBS_QUEUE,
  LISTENING,
  MAX_ATTEMPTS,
  META_SET,
  SELF_KILL,
  TICK_SPEC,
  TORTURE_DDL,
} from "./_shared.ts";

const RUNTIME_LIST: Runtime[] = ["node", "deno", "bun"];
const SUBSCRIBER_RUNTIMES: Runtime[] = ["deno", "bun"];
const KILLABLE: KillableRole[] = ["worker", "batch_worker", "subscriber", "scheduler", "locker"];
/** Resource growth after warm-up above this is reported. */
const GROWTH_LIMIT_PCT = 10;
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

const opts = parseOptions(process.argv.slice(2));
const SECONDS = opts.seconds;
/** Counted from each process's own start: JIT, heap sizing and caches settle first. */
const WARM_UP_S = Math.max(10, Math.min(300, Math.round(SECONDS / 4)));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);
const count = (db: Database, sql: string, params: string[] = []) =>
  Number(db.driver.get<{ n: number }>(sql, params)?.n ?? 0);

async function prepare(path: string): Promise<Database> {
  const db = await open(path, { busyTimeoutMs: opts.tuning.busyTimeoutMs });
  db.driver.exec(TORTURE_DDL);
  // Events on before the first enqueue, so every batch job's life is recorded from the start.
  db.queue(BATCH_QUEUE, { events: true, maxAttempts: MAX_ATTEMPTS });
  return db;
}

/**
 * Adds the schedule and notes its first boundary, just before the roles start working: the
 * boundaries of a slow start-up would otherwise pile up for the first leader's catch-up.
 */
function armSchedule(db: Database): void {
  const scheduler = db.scheduler();
  scheduler.add(TICK_SPEC);
  db.driver.run(META_SET, ["first_boundary", scheduler.soonest()]);
}

function startAll(fleet: Fleet): void {
  const { tuning } = opts;
  const producer = {
    jobRate: opts.jobRate,
    eventRate: opts.eventRate,
    batchJobRate: opts.batchJobRate,
    ...tuning,
  };
  for (const rt of RUNTIME_LIST) fleet.start("producer", rt, `${rt}-producer`, producer);
  for (const rt of RUNTIME_LIST) {
    for (const i of [1, 2]) fleet.start("worker", rt, `${rt}-worker-${i}`, tuning);
  }
  const batchWorker = { selfKillProbability: opts.selfKillProbability, ...tuning };
  for (const rt of RUNTIME_LIST) {
    fleet.start("batch_worker", rt, `${rt}-batch-worker`, batchWorker);
  }
  const subscriber = { throwProbability: opts.eventThrowProbability, ...tuning };
  for (const rt of SUBSCRIBER_RUNTIMES) {
    fleet.start("subscriber", rt, `${rt}-subscriber`, subscriber);
  }
  for (const rt of RUNTIME_LIST) fleet.start("scheduler", rt, `${rt}-scheduler`, tuning);
  for (let i = 0; i < opts.lockers; i++) {
    const rt = RUNTIME_LIST[i % RUNTIME_LIST.length];
    fleet.start("locker", rt, `${rt}-locker`, { ...opts.locker, ...tuning });
  }
}

async function waitReady(fleet: Fleet): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const late = fleet.members.filter((m) => !m.isReady).map((m) => m.name);
      reject(new Error(`Roles not ready within ${READY_TIMEOUT_MS} ms: ${late.join(", ")}`));
    }, READY_TIMEOUT_MS);
  });
  await Promise.race([Promise.all(fleet.members.map((m) => m.ready)), timeout]);
  clearTimeout(timer);
  if (fleet.violations.length > 0) throw new Error(fleet.violations.join("\n"));
}

/**
 * Whom to kill when the dice left a role short of `--min-kills` by mid-run: the scheduler
 * leader, a locker holding the write lock (none until one does), any other member at random.
 */
function forcedVictim(members: Member[], role: KillableRole, leader?: string): Member | undefined {
  if (role === "scheduler") {
    const leading = members.find((m) => `${m.name}:${m.pid}` === leader);
    if (leading) return leading;
  }
  const candidates = role === "locker" ? members.filter((m) => m.status === "holding") : members;
  return candidates[Math.floor(Math.random() * candidates.length)];
}

/** Rolls the kill dice for every live killable member, forcing `--min-kills` from mid-run on. */
async function maybeKill(fleet: Fleet, elapsedS: number, leader?: string): Promise<void> {
  for (const role of KILLABLE) {
    const p = opts.killProbability[role];
    const members = fleet.live.filter((m) => m.role === role);
    const victims = members.filter(() => Math.random() < p);
    const killed = fleet.kills.filter((k) => k.role === role && k.status !== SELF_KILL).length;
    if (victims.length === 0 && p > 0 && killed < opts.minKills && elapsedS >= SECONDS / 2) {
      const victim = forcedVictim(members, role, leader);
      if (victim) victims.push(victim);
    }
    for (const victim of victims) {
      const midHold = victim.status === "holding" ? " mid-hold" : "";
      const next = await fleet.killAndRestart(victim);
      log(
        `  t=${elapsedS.toFixed(0)}s SIGKILL ${victim.name} (pid ${victim.pid})${midHold} -> ` +
          next.pid,
      );
    }
  }
}

/**
 * From mid-run on, while no batch worker has SIGKILLed itself after a handler returned, asks one
 * to (through its stdin): the run then surely has outcomes lost before work()'s flush. Asks again
 * when the one asked was killed first.
 */
function maybeAskSelfKill(fleet: Fleet, elapsedS: number, asked: Set<number>): void {
  if (opts.selfKillProbability === 0 || elapsedS < SECONDS / 2) return;
  if (fleet.kills.some((k) => k.status === SELF_KILL)) return;
  const live = fleet.live.filter((m) => m.role === "batch_worker" && m.status === LISTENING);
  if (live.some((m) => asked.has(m.pid))) return;
  const victim = live[Math.floor(Math.random() * live.length)];
  if (!victim) return;
  asked.add(victim.pid);
  victim.child.stdin.write(`${SELF_KILL}\n`);
  log(`  t=${elapsedS.toFixed(0)}s asked ${victim.name} (pid ${victim.pid}) to kill itself`);
}

/** The main phase: kills, samples, progress lines and leader changes, once a second. */
async function torture(db: Database, fleet: Fleet, sampler: Sampler): Promise<number> {
  const startedAt = Date.now();
  let leader: string | undefined;
  let leaderChanges = 0;
  let lastSampleS = -Infinity;
  let lastProgressS = 0;
  const askedSelfKill = new Set<number>();
  for (;;) {
    await sleep(1000);
    const elapsedS = (Date.now() - startedAt) / 1000;
    if (elapsedS >= SECONDS) break;
    await maybeKill(fleet, elapsedS, leader);
    maybeAskSelfKill(fleet, elapsedS, askedSelfKill);
    if (elapsedS - lastSampleS >= opts.sampleEveryS) {
      sampler.sample(fleet.live, elapsedS);
      lastSampleS = elapsedS;
    }
    const owner = db.driver.get<{ owner: string }>(
      "SELECT owner FROM _honker_locks WHERE name = 'honker-scheduler'",
    )?.owner;
    if (owner !== undefined && owner !== leader) {
      if (leader !== undefined) leaderChanges++;
      leader = owner;
    }
    if (elapsedS - lastProgressS >= 10) {
      progress(db, elapsedS);
      lastProgressS = elapsedS;
    }
  }
  return leaderChanges;
}

function progress(db: Database, elapsedS: number): void {
  const enqueued = count(db, "SELECT count(*) AS n FROM torture_enqueued");
  const acked = count(db, "SELECT count(*) AS n FROM torture_acks");
  const live = count(db, "SELECT count(*) AS n FROM _honker_live WHERE queue = ?", [JOBS_QUEUE]);
  const batchEnqueued = count(db, "SELECT count(*) AS n FROM torture_batch_enqueued");
  const batchLive = count(db, "SELECT count(*) AS n FROM _honker_live WHERE queue = ?", [
    BATCH_QUEUE,
  ]);
  log(
    `  t=${elapsedS.toFixed(0)}s enqueued ${enqueued}, acked ${acked}, live ${live}; ` +
      `batch enqueued ${batchEnqueued}, live ${batchLive}`,
  );
}

/** Waits until every job is done and every subscriber has seen the last event. */
async function drain(db: Database, fleet: Fleet, subscribers: string[]): Promise<number> {
  const startedAt = Date.now();
  const deadline = startedAt + opts.drainTimeoutS * 1000;
  for (;;) {
    const live = count(
      db,
      "SELECT count(*) AS n FROM _honker_live WHERE queue IN (?, ?)",
      [JOBS_QUEUE, BATCH_QUEUE],
    );
    const last = count(db, "SELECT coalesce(max(offset), 0) AS n FROM torture_published");
    const behind = subscribers.filter((name) =>
      count(db, "SELECT coalesce(max(offset), 0) AS n FROM torture_seen WHERE subscriber = ?", [
        name,
      ]) < last
    );
    if (live === 0 && behind.length === 0) return Date.now() - startedAt;
    if (Date.now() > deadline) {
      fleet.violations.push(
        `drain timed out: ${live} jobs live, subscribers behind: ${behind.join(", ") || "none"}`,
      );
      return Date.now() - startedAt;
    }
    await sleep(200);
  }
}

function resultsOf(fleet: Fleet): Pick<RunFacts, "workerErrors"> {
  const workerErrors = fleet.members.flatMap((m) =>
    ((m.result?.otherErrors as string[] | undefined) ?? []).map((e) => `${m.name}: ${e}`)
  );
  return { workerErrors };
}

function growthVerdict(sampler: Sampler, problems: string[]): string {
  const growth = sampler.growth(WARM_UP_S);
  for (const g of growth) {
    if (g.rssPct > GROWTH_LIMIT_PCT) {
      problems.push(`${g.label}: RSS grew ${g.rssPct.toFixed(1)}% after warm-up`);
    }
    if (g.fds > 0) problems.push(`${g.label}: ${g.fds} more open descriptors after warm-up`);
    if (g.threads > 0) problems.push(`${g.label}: ${g.threads} more threads after warm-up`);
  }
  return resourceTable(growth, WARM_UP_S);
}

async function main(): Promise<number> {
  const path = opts.db ?? join(mkdtempSync(join(tmpdir(), "honker-torture-")), "torture.db");
  const db = await prepare(path);
  const fleet = new Fleet(path);
  const sampler = new Sampler();
  const subscribers = SUBSCRIBER_RUNTIMES.map((rt) => `${rt}-subscriber`);
  process.on("exit", () => fleet.killAll());
  log(`honker-ts torture: ${SECONDS} s on ${path}`);
  try {
    startAll(fleet);
    await waitReady(fleet);
    armSchedule(db);
    fleet.goAll();
    const leaderChanges = await torture(db, fleet, sampler);
    const byRole = (role: string): Member[] => fleet.live.filter((m) => m.role === role);
    // Lockers stop with the producers: the drain is the convergence of what is left, and the
    // subscribers' last offset saves (background writes) need a moment without a hold.
    await fleet.stop([...byRole("producer"), ...byRole("locker")], STOP_TIMEOUT_MS);
    const drainMs = await drain(db, fleet, subscribers);
    fleet.restartSelfKilled = false;
    await fleet.stop(fleet.live, STOP_TIMEOUT_MS);
    const violations = [...fleet.violations];
    const stats = checkFile(db, violations, subscribers, SECONDS);
    const deadReasons = db.driver.all<{ last_error: string; n: number }>(
      "SELECT last_error, count(*) AS n FROM _honker_dead WHERE queue = ? GROUP BY last_error",
      [JOBS_QUEUE],
    ).map((r) => `${r.n}× ${r.last_error}`);
    const facts: RunFacts = {
      seconds: SECONDS,
      processes: fleet.members.length,
      kills: fleet.kills,
      leaderChanges,
      drainMs,
      deadReasons,
      ...resultsOf(fleet),
    };
    if (opts.samplesCsv) writeFileSync(opts.samplesCsv, sampler.csv());
    const growthProblems: string[] = [];
    const resources = growthVerdict(sampler, growthProblems);
    log(`\n${summaryTable(stats, facts)}\n\n${resources}\n`);
    if (opts.strict) violations.push(...growthProblems);
    else for (const problem of growthProblems) log(`WARN ${problem}`);
    for (const violation of violations) log(`VIOLATION ${violation}`);
    log(violations.length === 0 ? "PASS" : `FAIL: ${violations.length} violation(s)`);
    return violations.length === 0 ? 0 : 1;
  } finally {
    fleet.killAll();
    db.close();
    if (!opts.keep && !opts.db) rmSync(dirname(path), { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((error) => {
  log(`FAIL: ${(error as Error)?.stack ?? error}`);
  return 1;
});
