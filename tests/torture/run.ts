/**
 * The multi-runtime torture run: Node, Deno and Bun processes hammer one honker file at once
 * (3 producers, 6 workers that get SIGKILLed and restarted at random, 2 stream subscribers, a
 * scheduler candidate per runtime), then everything stops cleanly and the invariants are checked
 * from the file alone. Prints a summary and exits 1 on any violation.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings tests/torture/run.ts --seconds 60
 * node_modules/.bin/node --no-warnings tests/torture/run.ts --seconds 1800 --strict
 * ```
 *
 * Options: `--seconds` (60), `--job-rate` and `--event-rate` per producer per second (30, 10),
 * `--kill-probability` per worker per second (0.01), `--min-kills` forced by mid-run when the
 * dice did not kill (1), `--sample-every` seconds (5), `--drain-timeout` seconds (60), `--db`
 * (a fresh temporary file), `--keep` (keep the file), `--samples-csv` (write every resource
 * sample to this file), `--strict` (resource growth over 10 % after warm-up, or any fd or
 * thread growth, fails the run instead of warning).
 *
 * @module
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { open } from "../../mod.ts";
import type { Database } from "../../mod.ts";
import { checkFile } from "./_check.ts";
import { Fleet } from "./_fleet.ts";
import type { Member, Runtime } from "./_fleet.ts";
import { resourceTable, summaryTable } from "./_report.ts";
import type { RunFacts } from "./_report.ts";
import { Sampler } from "./_sampler.ts";
import { JOBS_QUEUE, META_SET, TICK_TASK, TICKS_QUEUE, TORTURE_DDL } from "./_shared.ts";

const RUNTIME_LIST: Runtime[] = ["node", "deno", "bun"];
const SUBSCRIBER_RUNTIMES: Runtime[] = ["deno", "bun"];
/** Resource growth after warm-up above this is reported. */
const GROWTH_LIMIT_PCT = 10;
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

const { values: args } = parseArgs({
  options: {
    "seconds": { type: "string", default: "60" },
    "job-rate": { type: "string", default: "30" },
    "event-rate": { type: "string", default: "10" },
    "kill-probability": { type: "string", default: "0.01" },
    "min-kills": { type: "string", default: "1" },
    "sample-every": { type: "string", default: "5" },
    "drain-timeout": { type: "string", default: "60" },
    "db": { type: "string" },
    "samples-csv": { type: "string" },
    "keep": { type: "boolean", default: false },
    "strict": { type: "boolean", default: false },
  },
});
const SECONDS = Number(args.seconds);
const KILL_P = Number(args["kill-probability"]);
const MIN_KILLS = Number(args["min-kills"]);
const SAMPLE_EVERY_S = Number(args["sample-every"]);
/** Counted from each process's own start: JIT, heap sizing and caches settle first. */
const WARM_UP_S = Math.max(10, Math.min(300, Math.round(SECONDS / 4)));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stdout.write(`${line}\n`);
const count = (db: Database, sql: string, params: string[] = []) =>
  Number(db.driver.get<{ n: number }>(sql, params)?.n ?? 0);

async function prepare(path: string): Promise<Database> {
  const db = await open(path);
  db.driver.exec(TORTURE_DDL);
  const scheduler = db.scheduler();
  scheduler.add({ name: TICK_TASK, queue: TICKS_QUEUE, schedule: "@every 1s" });
  db.driver.run(META_SET, ["first_boundary", scheduler.soonest()]);
  return db;
}

function startAll(fleet: Fleet): void {
  const producer = { jobRate: Number(args["job-rate"]), eventRate: Number(args["event-rate"]) };
  for (const rt of RUNTIME_LIST) fleet.start("producer", rt, `${rt}-producer`, producer);
  for (const rt of RUNTIME_LIST) {
    for (const i of [1, 2]) fleet.start("worker", rt, `${rt}-worker-${i}`, {});
  }
  for (const rt of SUBSCRIBER_RUNTIMES) fleet.start("subscriber", rt, `${rt}-subscriber`, {});
  for (const rt of RUNTIME_LIST) fleet.start("scheduler", rt, `${rt}-scheduler`, {});
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

/** Rolls the kill dice for every live worker; forces a kill at mid-run if none happened. */
async function maybeKill(fleet: Fleet, elapsedS: number): Promise<void> {
  const workers = fleet.live.filter((m) => m.role === "worker");
  const victims = workers.filter(() => Math.random() < KILL_P);
  if (victims.length === 0 && fleet.kills.length < MIN_KILLS && elapsedS >= SECONDS / 2) {
    victims.push(workers[Math.floor(Math.random() * workers.length)]);
  }
  for (const victim of victims) {
    const next = await fleet.killAndRestart(victim);
    log(`  t=${elapsedS.toFixed(0)}s SIGKILL ${victim.name} (pid ${victim.pid}) -> ${next.pid}`);
  }
}

/** The main phase: kills, samples, progress lines and leader changes, once a second. */
async function torture(db: Database, fleet: Fleet, sampler: Sampler): Promise<number> {
  const startedAt = Date.now();
  let leader: string | undefined;
  let leaderChanges = 0;
  let lastSampleS = -Infinity;
  let lastProgressS = 0;
  for (;;) {
    await sleep(1000);
    const elapsedS = (Date.now() - startedAt) / 1000;
    if (elapsedS >= SECONDS) break;
    await maybeKill(fleet, elapsedS);
    if (elapsedS - lastSampleS >= SAMPLE_EVERY_S) {
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
  log(`  t=${elapsedS.toFixed(0)}s enqueued ${enqueued}, acked ${acked}, live ${live}`);
}

/** Waits until every job is done and every subscriber has seen the last event. */
async function drain(db: Database, fleet: Fleet, subscribers: string[]): Promise<number> {
  const startedAt = Date.now();
  const deadline = startedAt + Number(args["drain-timeout"]) * 1000;
  for (;;) {
    const live = count(db, "SELECT count(*) AS n FROM _honker_live WHERE queue = ?", [JOBS_QUEUE]);
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
  const path = args.db ?? join(mkdtempSync(join(tmpdir(), "honker-torture-")), "torture.db");
  const db = await prepare(path);
  const fleet = new Fleet(path);
  const sampler = new Sampler();
  const subscribers = SUBSCRIBER_RUNTIMES.map((rt) => `${rt}-subscriber`);
  process.on("exit", () => fleet.killAll());
  log(`honker-ts torture: ${SECONDS} s on ${path}`);
  try {
    startAll(fleet);
    await waitReady(fleet);
    fleet.goAll();
    const leaderChanges = await torture(db, fleet, sampler);
    const byRole = (role: string): Member[] => fleet.live.filter((m) => m.role === role);
    await fleet.stop(byRole("producer"), STOP_TIMEOUT_MS);
    const drainMs = await drain(db, fleet, subscribers);
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
    if (args["samples-csv"]) writeFileSync(args["samples-csv"], sampler.csv());
    const growthProblems: string[] = [];
    const resources = growthVerdict(sampler, growthProblems);
    log(`\n${summaryTable(stats, facts)}\n\n${resources}\n`);
    if (args.strict) violations.push(...growthProblems);
    else for (const problem of growthProblems) log(`WARN ${problem}`);
    for (const violation of violations) log(`VIOLATION ${violation}`);
    log(violations.length === 0 ? "PASS" : `FAIL: ${violations.length} violation(s)`);
    return violations.length === 0 ? 0 : 1;
  } finally {
    fleet.killAll();
    db.close();
    if (!args.keep && !args.db) rmSync(dirname(path), { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((error) => {
  log(`FAIL: ${(error as Error)?.stack ?? error}`);
  return 1;
});
