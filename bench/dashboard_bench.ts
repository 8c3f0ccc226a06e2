/**
 * Dashboard benchmark (issue #20): the server time of the dashboard's pages on a big file,
 * against the plain path (`queue.stats()` of every queue) measured in the same run, and the
 * query plans of every read the pages make.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/dashboard_bench.ts [--quick]
 * node_modules/.bin/deno run -A bench/dashboard_bench.ts [--quick]
 * node_modules/.bin/bun bench/dashboard_bench.ts [--quick]
 * ```
 *
 * The file: 1,000,000 jobs across 10 queues (pending, scheduled, processing), 10,000 dead
 * letters, 1,000,000 stream events across 3 topics with consumers near and far behind (and,
 * where the file has honker-ts's job events, 1,000,000 of them over the last 10 minutes), built
 * with raw SQL inserts in one transaction and cached in the temp folder (about 20 s the first
 * time). Targets: the overview in ≤ 200 ms of server time, a queue page in ≤ 100 ms. Every
 * statement of `dashboard/sql.ts` is explained: a full scan of a big table fails the run (the
 * dead letters, which honker does not index by queue, are scanned once per overview and said
 * so). `--quick` uses 10,000 jobs and events, for the test that runs it on each runtime.
 *
 * @module
 */

import { existsSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { bench, do_not_optimize, run } from "mitata";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { dashboard } from "../dashboard/mod.ts";
import * as SQL from "../dashboard/sql.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { idleCosts } from "./_dashboard_idle.ts";

const quick = process.argv.includes("--quick");
const JOBS = quick ? 10_000 : 1_000_000;
const EVENTS = quick ? 10_000 : 1_000_000;
const DEAD = quick ? 1_000 : 10_000;
const QUEUES = 10;
const OVERVIEW_TARGET_MS = 200;
const QUEUE_PAGE_TARGET_MS = 100;
/** The quiet period over which idle CPU is measured. */
const IDLE_PERIOD_MS = quick ? 1_000 : 10_000;
/** Tables small by nature (a row per queue, schedule, lock or consumer), or honker's unindexed dead letters. */
const SCAN_ALLOWED = new Set([
  "_honker_dead",
  "_honker_scheduler_tasks",
  "_honker_ts_scheduler_tasks",
  "_honker_locks",
  "_honker_stream_consumers",
  "_honker_ts_queues",
  "sqlite_master",
]);

const FILL_LIVE = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
  INSERT INTO _honker_live (queue, payload, state, priority, run_at, worker_id,
    claim_expires_at, attempts, created_at)
  SELECT 'queue-' || (i % ${QUEUES}), json_object('to', 'user' || i || '@example.com', 'n', i),
    CASE WHEN i % 100 = 0 THEN 'processing' ELSE 'pending' END, i % 3,
    CASE WHEN i % 20 = 1 THEN unixepoch() + 3600 + i % 600 ELSE unixepoch() - 7200 + i % 7000 END,
    CASE WHEN i % 100 = 0 THEN 'worker-' || (i % 7) END,
    CASE WHEN i % 100 = 0 THEN unixepoch() + 300 END,
    CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END, unixepoch() - 7200 FROM n`;
const FILL_DEAD = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
  INSERT INTO _honker_dead (id, queue, payload, priority, run_at, attempts, max_attempts,
    last_error, created_at, died_at)
  SELECT ?2 + i, 'queue-' || (i % ${QUEUES}), json_object('n', i), 0, unixepoch() - 9000, 3, 3,
    'SMTP 550 mailbox unavailable', unixepoch() - 9000, unixepoch() - i % 3600 FROM n`;
const FILL_STREAM = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
  INSERT INTO _honker_stream (topic, key, payload, created_at)
  SELECT CASE i % 3 WHEN 0 THEN 'orders' WHEN 1 THEN 'payments' ELSE 'audit' END,
    'customer-' || (i % 1000), json_object('orderId', i, 'total', i % 500), unixepoch() FROM n`;

/**
 * Job events over the last 10 minutes, ids in time order as the triggers write them, about a
 * third of them completions. Params: count, count.
 */
const FILL_EVENTS = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
  INSERT INTO _honker_ts_job_events (queue, job_id, type, data, attempt, created_at)
  SELECT 'queue-' || (i % ${QUEUES}), i / 3,
    CASE i % 3 WHEN 0 THEN 'active' WHEN 1 THEN 'completed' ELSE 'enqueued' END,
    NULL, 1, unixepoch() - 600 + (i * 600) / ?2 FROM n`;
const EVENTS_ON = `INSERT INTO _honker_ts_queues (queue, events) VALUES (?, 1)
  ON CONFLICT (queue) DO UPDATE SET events = 1`;

async function build(path: string): Promise<void> {
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  const db = await open(partial);
  const started = performance.now();
  db.transaction((tx) => {
    tx.run(FILL_LIVE, [JOBS]);
    tx.run(FILL_DEAD, [DEAD, JOBS * 2]);
    tx.run(FILL_STREAM, [EVENTS]);
    const tables = tx.all<{ name: string }>(SQL.TABLES).map((r) => r.name);
    if (tables.includes("_honker_ts_job_events") && tables.includes("_honker_ts_queues")) {
      tx.run(FILL_EVENTS, [EVENTS, EVENTS]); // as many job events as stream events
      for (let q = 0; q < QUEUES; q++) tx.run(EVENTS_ON, [`queue-${q}`]);
    }
  });
  const orders = db.stream("orders");
  const last = orders.readSince(EVENTS - 10, 10).at(-1)?.offset ?? 0;
  orders.saveOffset("billing", Math.max(0, last - 300)); // near the end: lag counted
  orders.saveOffset("analytics", 0); // far behind: lag estimated
  db.stream("payments").saveOffset("ledger", Math.floor(EVENTS / 2));
  const scheduler = db.scheduler();
  for (const [name, schedule] of [["nightly", "0 3 * * *"], ["hourly", "0 * * * *"]]) {
    scheduler.add({ name, queue: "queue-1", schedule, payload: { name } });
  }
  for (let i = 0; i < 100; i++) db.notify("orders", { i });
  db.close();
  renameSync(partial, path);
  console.log(`built ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** The cached file for this size, built on first use. */
async function bigFile(): Promise<string> {
  const path = join(tmpdir(), `honker-ts-dashboard-bench-v2-${JOBS}-${EVENTS}.db`);
  if (!existsSync(path)) await build(path);
  return path;
}

/** Explains every statement of dashboard/sql.ts; returns the full scans of big tables. */
function checkPlans(db: Database): string[] {
  const params: Record<string, unknown[]> = {
    TABLES: [],
    TABLE_EXISTS: ["_honker_live"],
    NOW: [],
    LIVE_QUEUE_NEXT: [""],
    QUEUE_PENDING_COUNT: ["queue-1", 0],
    QUEUE_SCHEDULED_COUNT: ["queue-1", 0],
    QUEUE_PROCESSING_COUNT: ["queue-1"],
    DEAD_COUNTS: [0],
    DEAD_TOTAL_CAPPED: [50_001],
    DEAD_TOTAL: [],
    DEAD_COUNTS_SAMPLE: [0, 50_000],
    DEAD_COUNT_OF: [0, "queue-1"],
    QUEUE_SETTINGS: [],
    EVENT_AT_OR_AFTER: [1],
    EVENT_ID_RANGE: [],
    EVENT_OUTCOMES_NEWEST: [1, 20_000],
    JOB_EVENTS_FROM: [1, 10_000, 5, 10],
    JOB_PROGRESS_OF: [1],
    JOB_KEY_OF: ["q0", 1],
    JOB_OPTIONS_OF: [1],
    DEAD_PAGE_ALL: [50, 0],
    LIVE_BY_ID: [1],
    DEAD_BY_ID: [1],
    RESULT_BY_JOB: [1],
    STREAM_TOPIC_NEXT: [""],
    STREAM_RANGE: ["orders", "orders"],
    STREAM_CONSUMERS_ALL: [],
    STREAM_COUNT_AFTER: ["orders", 0, 10_001],
    STREAM_RECENT: ["orders", 1e15, 50],
    SCHEDULES: [],
    SCHEDULES_TS: [],
    LOCKS_HELD: [0],
    CHANNEL_NEXT: [""],
    CHANNEL_LAST_ID: ["orders"],
    CHANNEL_AFTER: ["orders", 0, 10],
    CHANNEL_RECENT: ["orders", 10],
  };
  const statements: Array<[string, string, unknown[]]> = [];
  for (const [name, value] of Object.entries(SQL)) {
    if (typeof value === "string") statements.push([name, value, params[name] ?? []]);
    else {
      for (const [state, sql] of Object.entries(value as Record<string, string>)) {
        const p = state === "pending" || state === "scheduled"
          ? ["queue-1", 0, 50, 0]
          : ["queue-1", 50, 0];
        statements.push([`${name}.${state}`, sql, p]);
      }
    }
  }
  const tables = new Set(db.driver.all<{ name: string }>(SQL.TABLES).map((r) => r.name));
  const problems: string[] = [];
  console.log("\nQuery plans (EXPLAIN QUERY PLAN):");
  for (const [name, sql, p] of statements) {
    const used = [...sql.matchAll(/\b(_honker_\w+|sqlite_master)\b/g)].map((m) => m[1]);
    if (used.some((t) => !tables.has(t) && t !== "sqlite_master")) {
      console.log(`  ${name.padEnd(28)} (table not in this file)`);
      continue;
    }
    const plan = db.driver.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, p as never[]).map((
      r,
    ) => r.detail);
    console.log(`  ${name.padEnd(28)} ${plan.join(" | ")}`);
    for (const line of plan) {
      const scan = /^SCAN (\w+)/.exec(line);
      if (scan && scan[1].startsWith("_honker") && !SCAN_ALLOWED.has(scan[1])) {
        problems.push(`${name}: ${line}`);
      }
    }
  }
  return problems;
}

const verdict = (ms: number, target: number) =>
  `${ms <= target ? "target met" : "target NOT met"} (≤ ${target} ms)`;

async function main(): Promise<number> {
  // First, while the process is quiet: after the page benchmarks its garbage collection would
  // be counted as idle cost.
  const idle = await idleCosts(IDLE_PERIOD_MS);
  const path = await bigFile();
  const db = await open(path);
  const handler = dashboard(db);
  const page = async (p: string) => (await handler(new Request(`http://127.0.0.1${p}`))).text();
  const queueNames = Array.from({ length: QUEUES }, (_, i) => `queue-${i}`);
  const jobId = Math.floor(JOBS / 2) + 3;
  for (const p of ["/", "/queues/queue-3", `/queues/queue-3/jobs/${jobId}`, "/streams/orders"]) {
    const html = await page(p); // warm the page cache and check it renders
    if (!html.includes("</main>")) throw new Error(`${p} did not render`);
  }
  bench("overview (GET /)", async () => do_not_optimize(await page("/")));
  bench(
    "queue page (GET /queues/queue-3)",
    async () => do_not_optimize(await page("/queues/queue-3")),
  );
  bench(
    "queue page, dead tab",
    async () => do_not_optimize(await page("/queues/queue-3?state=dead")),
  );
  bench("job page", async () => do_not_optimize(await page(`/queues/queue-3/jobs/${jobId}`)));
  bench("stream page (orders)", async () => do_not_optimize(await page("/streams/orders")));
  bench(
    "plain: stats() of every queue",
    () => do_not_optimize(queueNames.map((q) => db.queue(q).stats())),
  );
  const { benchmarks } = await run({ throw: true });
  const ms = (i: number) => (benchmarks[i]?.runs[0]?.stats?.avg ?? NaN) / 1e6;
  const [overview, queuePage, deadTab, jobPage, streamPage, plain] = [0, 1, 2, 3, 4, 5].map(ms);
  const problems = checkPlans(db);
  db.close();
  const f = (n: number) => `${n.toFixed(2)} ms`.padStart(11);
  console.log(
    `\nDashboard server time, ${runtimeKey()}, ${
      JOBS.toLocaleString("en-US")
    } jobs in ${QUEUES} queues, ` +
      `${EVENTS.toLocaleString("en-US")} stream events${quick ? " (--quick)" : ""}:`,
  );
  console.log(`${"overview".padEnd(24)}${f(overview)}  ${verdict(overview, OVERVIEW_TARGET_MS)}`);
  console.log(
    `${"queue page".padEnd(24)}${f(queuePage)}  ${verdict(queuePage, QUEUE_PAGE_TARGET_MS)}`,
  );
  console.log(
    `${"queue page, dead tab".padEnd(24)}${f(deadTab)}  ${verdict(deadTab, QUEUE_PAGE_TARGET_MS)}`,
  );
  console.log(`${"job page".padEnd(24)}${f(jobPage)}`);
  console.log(`${"stream page".padEnd(24)}${f(streamPage)}`);
  console.log(
    `${"plain stats() × 10".padEnd(24)}${f(plain)}  overview ÷ plain: ${
      (overview / plain).toFixed(2)
    }×`,
  );
  const idleRatio = idle.dashboardMs / idle.workerMs;
  console.log(`\nIdle CPU over ${IDLE_PERIOD_MS / 1000} s (ms of CPU per s):`);
  console.log(`${"dashboard, 1 live page".padEnd(24)}${f(idle.dashboardMs).replace(" ms", "   ")}`);
  console.log(
    `${"idle worker".padEnd(24)}${f(idle.workerMs).replace(" ms", "   ")}  dashboard ÷ worker: ` +
      `${idleRatio.toFixed(2)}× ${
        idle.dashboardMs <= idle.workerMs * 1.5 + 0.2
          ? "(target met: about an idle worker's)"
          : "(target NOT met)"
      }`,
  );
  if (problems.length > 0) {
    console.log(`\nFull scans of big tables:\n  ${problems.join("\n  ")}`);
    return 1;
  }
  console.log(
    "\nQuery plans: every big table is read through an index (dead letters scanned once per overview).",
  );
  return 0;
}

process.exitCode = await main();
