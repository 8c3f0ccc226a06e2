/**
 * The peers benchmark's table: the median of each figure over the repetitions, one row per
 * figure and runtime, honker-ts beside each peer with the ratios, then issue #16's targets.
 *
 * @module
 */

import { SHARED_PREFETCH } from "./_peers_cases.ts";
import type { Metrics, Target } from "./_peers_cases.ts";
import { SYSTEMS } from "./_peers_system.ts";
import type { SystemId } from "./_peers_system.ts";

/** Every run's figures (or why it has none), by case key and `system@runtime`. */
export class Results {
  #runs = new Map<string, Metrics[]>();
  #notes = new Map<string, string>();

  static #key(caseKey: string, target: Target): string {
    return `${caseKey} ${target.system}@${target.runtime}`;
  }

  /** Records one run's figures. */
  add(caseKey: string, target: Target, metrics: Metrics): void {
    const key = Results.#key(caseKey, target);
    this.#runs.set(key, [...(this.#runs.get(key) ?? []), metrics]);
  }

  /** Records why a run has no figures (the first reason per case and target is kept). */
  fail(caseKey: string, target: Target, why: string): void {
    const key = Results.#key(caseKey, target);
    if (!this.#notes.has(key)) this.#notes.set(key, why.split("\n")[0]);
  }

  /** The median of `metric` over the runs, or undefined when no run has it. */
  median(caseKey: string, target: Target, metric: string): number | undefined {
    return medianOf((this.#runs.get(Results.#key(caseKey, target)) ?? []).map((m) => m[metric]));
  }

  /** Why a case and target has no figure, if it was recorded. */
  note(caseKey: string, target: Target): string | undefined {
    return this.#notes.get(Results.#key(caseKey, target));
  }
}

type Unit = "rate" | "ms" | "cpu" | "mb" | "count";

/** One row of the table: a figure of a case. */
interface RowDef {
  caseKey: string;
  metric: string;
  label: string;
  unit: Unit;
  /** The case whose floor figure this row is compared with (the floor is sequential). */
  floorCase?: string;
  /** The case whose peers' figures this row is compared with (a honker-ts-only variant). */
  peersCase?: string;
}

/** The table's rows, in order; the smoke test looks for each label. */
export const ROWS: readonly RowDef[] = [
  { caseKey: "enqueue", metric: "rate", label: "enqueue, one per call", unit: "rate" },
  { caseKey: "enqueue-bulk", metric: "rate", label: "enqueue, 100 per call", unit: "rate" },
  { caseKey: "drain-1", metric: "rate", label: "drain, 1 process, concurrency 1", unit: "rate" },
  {
    caseKey: "drain-8",
    metric: "rate",
    label: "drain, 1 process, concurrency 8",
    unit: "rate",
    floorCase: "drain-1",
  },
  {
    caseKey: "drain-64",
    metric: "rate",
    label: "drain, 1 process, concurrency 64",
    unit: "rate",
    floorCase: "drain-1",
  },
  { caseKey: "drain-4x8", metric: "rate", label: "drain, 4 processes × 8", unit: "rate" },
  {
    caseKey: "drain-4x8-prefetch",
    metric: "rate",
    label: `drain, 4 processes × 8, prefetch ${SHARED_PREFETCH}`,
    unit: "rate",
    peersCase: "drain-4x8",
  },
  { caseKey: "idle-latency", metric: "p50", label: "idle: enqueue → handler p50", unit: "ms" },
  { caseKey: "idle-latency", metric: "p99", label: "idle: enqueue → handler p99", unit: "ms" },
  { caseKey: "load-latency", metric: "p50", label: "1,000 jobs/s on 4 × 8: p50", unit: "ms" },
  { caseKey: "load-latency", metric: "p99", label: "1,000 jobs/s on 4 × 8: p99", unit: "ms" },
  { caseKey: "load-latency", metric: "max", label: "1,000 jobs/s on 4 × 8: max wait", unit: "ms" },
  {
    caseKey: "load-latency",
    metric: "statements",
    label: "1,000 jobs/s on 4 × 8: statements/job",
    unit: "count",
  },
  {
    caseKey: "load-latency",
    metric: "cpuPerJob",
    label: "1,000 jobs/s on 4 × 8: workers' CPU/job",
    unit: "ms",
  },
  { caseKey: "idle-cpu-1", metric: "cpu", label: "idle, concurrency 1: CPU", unit: "cpu" },
  { caseKey: "idle-cpu-1", metric: "rss", label: "idle, concurrency 1: RSS", unit: "mb" },
  { caseKey: "idle-cpu-64", metric: "cpu", label: "idle, concurrency 64: CPU", unit: "cpu" },
  { caseKey: "idle-cpu-64", metric: "rss", label: "idle, concurrency 64: RSS", unit: "mb" },
];

const HEADS: Record<SystemId, string> = {
  honker: "honker-ts",
  bullmq: "BullMQ",
  "bullmq-aof": "BullMQ (AOF everysec)",
  plainjob: "plainjob",
  floor: "raw floor",
};

function format(value: number | undefined, unit: Unit): string {
  if (value === undefined) return "–";
  if (unit === "rate") {
    return value >= 1e4 ? `${(value / 1000).toFixed(1)}k/s` : `${value.toFixed(0)}/s`;
  }
  if (unit === "ms") return `${value.toFixed(2)} ms`;
  if (unit === "cpu") return `${value.toFixed(1)} ms/s`;
  if (unit === "mb") return `${value.toFixed(0)} MB`;
  return value.toFixed(1);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

/** The figure of a row for a system: peers are measured on Node whatever the row's runtime. */
function figure(results: Results, row: RowDef, system: SystemId, runtime: string) {
  const target = { system, runtime: system === "honker" || system === "floor" ? runtime : "node" };
  const peersCase = system === "honker" ? row.caseKey : row.peersCase ?? row.caseKey;
  const caseKey = system === "floor" ? row.floorCase ?? peersCase : peersCase;
  return results.median(caseKey, target as Target, row.metric);
}

/**
 * The figures table, one row per figure of the cases run and per runtime; ratios are
 * honker-ts ÷ each column.
 */
export function figuresTable(
  results: Results,
  runtimes: readonly string[],
  caseKeys: readonly string[],
): string {
  const peers = SYSTEMS.filter((s) => s !== "honker");
  const header = ["figure", "runtime", ...SYSTEMS.map((s) => HEADS[s])];
  header.push(...peers.map((s) => `÷ ${HEADS[s]}`));
  const rows = ROWS.filter((row) => caseKeys.includes(row.caseKey)).flatMap((row) =>
    runtimes.map((runtime) => {
      const values = SYSTEMS.map((s) => figure(results, row, s, runtime));
      const ours = values[0];
      const ratios = values.slice(1).map((v) =>
        ours === undefined || v === undefined || v === 0 ? "–" : `${(ours / v).toFixed(2)}×`
      );
      return [row.label, runtime, ...values.map((v) => format(v, row.unit)), ...ratios];
    })
  );
  return table(header, rows);
}

/** A case and a target the benchmark ran (or meant to). */
export interface PlanItem {
  caseKey: string;
  target: Target;
}

/** Why figures are missing, one line per case and target that has a note. */
export function notesText(results: Results, plan: readonly PlanItem[]): string {
  return plan.flatMap(({ caseKey, target }) => {
    const why = results.note(caseKey, target);
    return why ? [`- ${caseKey}, ${target.system} on ${target.runtime}: ${why}`] : [];
  }).join("\n");
}

/** The median of the finite numbers among `values`, or undefined when there is none. */
export function medianOf(values: readonly (number | undefined)[]): number | undefined {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}
