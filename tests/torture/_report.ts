/**
 * The torture run's summary: what the file says happened, the process kills, and each process's
 * resource curve, as aligned plain-text tables.
 *
 * @module
 */

import type { FileStats } from "./_check.ts";
import type { Growth } from "./_sampler.ts";
import { SELF_KILL } from "./_shared.ts";

/** What the driver itself saw during the run. */
export interface RunFacts {
  seconds: number;
  processes: number;
  kills: Array<{ atS: number; name: string; role: string; status: string }>;
  leaderChanges: number;
  drainMs: number;
  deadReasons: string[];
  workerErrors: string[];
}

/** Lays out rows as columns: the first and last left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => (row[col] ?? "").length)));
  return rows.map((row) =>
    row.map((cell, col) =>
      col === 0 || col === row.length - 1 ? cell.padEnd(widths[col]) : cell.padStart(widths[col])
    ).join("  ").trimEnd()
  ).join("\n");
}

const fixed = (n: number, digits = 1) => n.toFixed(digits);
const signed = (n: number, unit = "") =>
  Number.isNaN(n) ? "–" : `${n >= 0 ? "+" : ""}${unit ? fixed(n) : n}${unit}`;

/** The run's main table. */
export function summaryTable(stats: FileStats, facts: RunFacts): string {
  const spanS = Math.max(stats.spanMs, 1) / 1000;
  const killsOf = (role: string) => {
    const of = facts.kills.filter((k) => k.role === role);
    const detail = of.map((k) =>
      `${k.name}@${fixed(k.atS, 0)}s${
        k.status === "holding" ? " mid-hold" : k.status === SELF_KILL ? " by itself" : ""
      }`
    );
    return [`${role} kills`, `${of.length}`, detail.join(", ")];
  };
  const eventThrows = stats.subscribers.reduce((n, s) => n + s.threw, 0);
  const rows: string[][] = [
    ["metric", "value", "detail"],
    [
      "run",
      `${facts.seconds} s`,
      `${facts.processes} processes on node, deno and bun, restarts included`,
    ],
    ["jobs enqueued", `${stats.enqueued}`, `${fixed(stats.enqueued / facts.seconds)}/s`],
    ["jobs acked", `${stats.acked}`, "each exactly once"],
    ["jobs dead", `${stats.dead}`, facts.deadReasons.join("; ")],
    ["throughput", `${fixed(stats.acked / spanS)}/s`, "acks, first enqueue to last ack"],
    ["handler throws", `${stats.threw}`, "5% of handler runs"],
    [
      "redeliveries",
      `${stats.redeliveries}`,
      `${stats.redeliveriesAfterLapse} not after a throw (SIGKILL or lapsed claim)`,
    ],
    ["latency p50", `${stats.latencyMs.p50} ms`, "enqueue to ack"],
    ["latency p99", `${stats.latencyMs.p99} ms`, ""],
    ["latency max", `${stats.latencyMs.max} ms`, ""],
    killsOf("worker"),
    [
      "batch jobs enqueued",
      `${stats.batch.enqueued}`,
      "work() completes them: batched acks with results, batched retries",
    ],
    [
      "batch jobs completed",
      `${stats.batch.completed}`,
      "one completed event each, its result from the run that returned it",
    ],
    ["batch jobs dead", `${stats.batch.dead}`, stats.batch.deadReasons.join("; ")],
    [
      "batch handler runs",
      `${stats.batch.runs}`,
      `${stats.batch.threw} threw, ${stats.batch.unfinished} killed mid-handler`,
    ],
    [
      "batch outcomes lost",
      `${stats.batch.returnedNotCompleted}`,
      "runs that returned, ack never committed (SIGKILL before the flush, or lapsed): run again",
    ],
    killsOf("batch_worker"),
    ["events published", `${stats.events}`, ""],
    ["event throws", `${eventThrows}`, "loop bodies that threw, each re-subscribed"],
    ...stats.subscribers.map((s) => [
      s.name,
      `${s.seen} seen`,
      `${s.duplicates} duplicates, ${s.threw} throws, ${s.incarnations} incarnation(s), in order`,
    ]),
    killsOf("subscriber"),
    ["schedule fires", `${stats.fires}`, "one per @every 1s boundary"],
    ["schedule adds", `${stats.readds}`, "by scheduler processes at start"],
    ["leader changes", `${facts.leaderChanges}`, "of the honker-scheduler lock"],
    killsOf("scheduler"),
    [
      "write-lock holds",
      `${stats.holds.count}`,
      `${fixed(stats.holds.totalMs / 1000)} s in all, longest ${stats.holds.longestMs} ms`,
    ],
    killsOf("locker"),
    ["drain", `${facts.drainMs} ms`, "producers stopped to queue empty"],
    ["integrity_check", stats.integrity, ""],
  ];
  if (facts.workerErrors.length > 0) {
    rows.push(["worker errors", `${facts.workerErrors.length}`, facts.workerErrors.join("; ")]);
  }
  return table(rows);
}

/** The resource table: RSS curve and growth after warm-up per process. */
export function resourceTable(growth: Growth[], warmUpS: number): string {
  const rows = [[
    "process",
    "rss growth",
    "fds",
    "threads",
    `RSS MB curve (growth after ${warmUpS} s of each process)`,
  ]];
  for (const g of growth.sort((a, b) => a.label.localeCompare(b.label))) {
    rows.push([
      g.label,
      signed(g.rssPct, "%"),
      signed(g.fds),
      signed(g.threads),
      g.curveMb.join(" "),
    ]);
  }
  return table(rows);
}
