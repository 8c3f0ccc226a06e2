/**
 * The demo's closing proof: after every process has stopped, the file is read back and each
 * promise is checked against it (nothing lost, nothing done twice, the file intact).
 *
 * @module
 */

import type { Database } from "../mod.ts";
import type { Latency, Monitor, Snapshot } from "./_monitor.ts";
import type { RoleProcess } from "./_procs.ts";
import { HEARTBEAT_SCHEDULE } from "./_role.ts";
import { ms } from "./_view.ts";
import type { Paint } from "./_view.ts";

const ORDERS_NOT_SHIPPED_ONCE = `SELECT count(*) AS n FROM orders o
  WHERE (SELECT count(*) FROM shipped s WHERE s.order_id = o.id) <> 1`;
const SHIPPED_WITHOUT_ORDER =
  "SELECT count(*) AS n FROM shipped WHERE order_id NOT IN (SELECT id FROM orders)";
const DISTINCT_SHIPPED_JOBS = "SELECT count(DISTINCT job_id) AS n FROM shipped";

/** What the summary is computed from. */
export interface RunRecord {
  db: Database;
  monitor: Monitor;
  /** The snapshot taken after every process stopped. */
  final: Snapshot;
  producer: RoleProcess;
  workers: RoleProcess[];
  subscriber: RoleProcess;
  scheduler: RoleProcess;
  /** Unix seconds of the heartbeat's first boundary. */
  firstBoundaryS: number;
  /** Date.now() of the last snapshot before the stop (every boundary due by then had fired). */
  caughtUpAtMs: number;
}

/** One verified promise. */
export interface Check {
  ok: boolean;
  name: string;
  text: string;
}

function count(db: Database, sql: string): number {
  return db.driver.get<{ n: number }>(sql)?.n ?? 0;
}

function sum(procs: RoleProcess[], key: string): number {
  return procs.reduce((total, p) => total + Number(p.doneInfo?.[key] ?? 0), 0);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** How many of the schedule's boundaries fell at or before `atS`. */
function boundariesUntil(firstS: number, atS: number): number {
  return atS < firstS ? 0 : Math.floor((atS - firstS) / HEARTBEAT_SCHEDULE.everyS) + 1;
}

function processesCheck(r: RunRecord): Check {
  const all = [r.producer, ...r.workers, r.subscriber, r.scheduler];
  const bad = all.filter((p) => p.exitCode !== 0 || p.doneInfo === undefined);
  const text = bad.length === 0
    ? `all ${all.length} stopped when asked and exited 0`
    : bad.map((p) =>
      `${p.label} exited ${p.exitCode ?? "by signal"}: ${p.stderr.trim().split("\n")[0] ?? ""}`
    ).join("; ");
  return { ok: bad.length === 0, name: "processes", text };
}

function ordersCheck(r: RunRecord): Check {
  const placed = Number(r.producer.doneInfo?.orders ?? -1);
  const notOnce = count(r.db, ORDERS_NOT_SHIPPED_ONCE) + count(r.db, SHIPPED_WITHOUT_ORDER);
  const ok = notOnce === 0 && placed === r.final.orders && r.final.orders > 0;
  const text = ok
    ? `${r.final.orders} committed, each with exactly one shipped row`
    : `${r.final.orders} in the file (producer placed ${placed}), ${notOnce} without exactly ` +
      "one shipped row";
  return { ok, name: "orders", text };
}

function jobsCheck(r: RunRecord): Check {
  const n = r.final.orders;
  const started = sum(r.workers, "started");
  const acked = sum(r.workers, "acked");
  const redone = sum(r.workers, "retried") + sum(r.workers, "dead") + sum(r.workers, "lost");
  const left = r.final.depth + r.final.inFlight + r.final.dead;
  const jobs = count(r.db, DISTINCT_SHIPPED_JOBS);
  const ok = jobs === n && started === n && acked === n && redone === 0 && left === 0;
  const split = r.workers.map((w) => `${w.name} ${r.final.byWorker.get(w.name) ?? 0}`).join(", ");
  const text = ok
    ? `${n} enqueued with the orders, each run once and acked (${split}); none left`
    : `${n} enqueued, ${jobs} shipped, ${started} handler runs, ${acked} acked, ` +
      `${redone} retried/dead/lost, ${left} still queued or dead`;
  return { ok, name: "jobs", text };
}

function streamCheck(r: RunRecord): Check {
  const events = Number(r.subscriber.doneInfo?.events ?? -1);
  const distinct = Number(r.subscriber.doneInfo?.distinctOrders ?? -1);
  const { consumerOffset, streamHead } = r.final;
  const ok = consumerOffset === streamHead && events === r.final.orders &&
    distinct === events && r.final.lag === 0;
  const text = ok
    ? `consumer "audit" saved offset ${consumerOffset} = the last event; read ${events}, ` +
      "each once"
    : `consumer at ${consumerOffset} of ${streamHead} (lag ${r.final.lag}); read ${events} ` +
      `events (${distinct} distinct) for ${r.final.orders} orders`;
  return { ok, name: "stream", text };
}

function schedulerCheck(r: RunRecord): Check {
  const { fires, nextFireAt } = r.final;
  // Boundaries due before the stop must have fired (main.ts waits for that); boundaries up to
  // the moment run() returned may have.
  const stoppedAtMs = Number(r.scheduler.doneInfo?.stoppedAtMs ?? r.caughtUpAtMs);
  const surely = boundariesUntil(r.firstBoundaryS, r.caughtUpAtMs / 1000);
  const elapsed = boundariesUntil(r.firstBoundaryS, stoppedAtMs / 1000);
  // The next boundary moves on exactly once per fire: none fired twice, none skipped.
  const ticked = (nextFireAt - r.firstBoundaryS) / HEARTBEAT_SCHEDULE.everyS;
  const ok = fires >= surely && fires <= elapsed && ticked === fires;
  const text = `${plural(fires, "fire")} for ${plural(elapsed, "boundary", "boundaries")} of ` +
    `@every ${HEARTBEAT_SCHEDULE.everyS}s` +
    (fires === elapsed ? "" : ` (the last fell just as it stopped)`) +
    (ticked === fires ? ", each once" : `, but the schedule moved ${ticked} boundaries`);
  return { ok, name: "scheduler", text };
}

function integrityCheck(r: RunRecord): Check {
  const rows = r.db.driver.all<{ integrity_check: string }>("PRAGMA integrity_check");
  const result = rows.map((row) => row.integrity_check).join("; ");
  return { ok: result === "ok", name: "integrity", text: `PRAGMA integrity_check: ${result}` };
}

/** Verifies every promise of the demo against the file. */
export function verify(r: RunRecord): Check[] {
  return [
    processesCheck(r),
    ordersCheck(r),
    jobsCheck(r),
    streamCheck(r),
    schedulerCheck(r),
    integrityCheck(r),
  ];
}

/** Splits text at spaces into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines = [""];
  for (const word of text.split(" ")) {
    const last = lines[lines.length - 1];
    if (last === "") lines[lines.length - 1] = word;
    else if (last.length + 1 + word.length <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function latencyText(l: Latency): string {
  return `p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  max ${ms(l.max)} ms`;
}

/** The summary's lines: the checks, the wake latencies, and the verdict. */
export function summaryLines(r: RunRecord, checks: Check[], p: Paint, tty: boolean): string[] {
  const mark = (ok: boolean) => tty ? (ok ? p.green("✓") : p.red("✗")) : ok ? "ok  " : "FAIL";
  const lines = ["", p.bold("Summary")];
  // Continuation lines start under the text: "  ✓ name       text" or "  ok   name       text".
  const indent = " ".repeat(tty ? 15 : 18);
  for (const check of checks) {
    const [first, ...more] = wrap(check.text, 79 - indent.length);
    lines.push(`  ${mark(check.ok)} ${check.name.padEnd(10)} ${first}`);
    for (const line of more) lines.push(indent + line);
  }
  const all = r.monitor.latency();
  lines.push(
    "",
    `  wake latency, enqueue → handler start, ${all.n} jobs:`,
    `    ${"all".padEnd(6)} ${latencyText(all)}`,
    ...r.workers.map((w) =>
      `    ${w.name.padEnd(6)} ${latencyText(r.monitor.latency(w.name))}  ` +
      `(${w.readyInfo?.wake ?? "?"} wake)`
    ),
    p.dim("    system clock, read with µs by aligning performance.now() to Date.now() ticks"),
    "",
  );
  const failed = checks.filter((c) => !c.ok).map((c) => c.name);
  lines.push(
    failed.length === 0
      ? p.green("Nothing was lost: each order shipped once, each job ran once, each event read.")
      : p.red(`Checks failed: ${failed.join(", ")}.`),
  );
  return lines;
}
