/**
 * Issue #16's targets, checked against one peers-benchmark run: one line per target, met or
 * not met on each runtime, with the figure.
 *
 * @module
 */

import { SHARED_PREFETCH } from "./_peers_cases.ts";
import type { Target } from "./_peers_cases.ts";
import type { Results } from "./_peers_report.ts";
import type { SystemId } from "./_peers_system.ts";

/** Looks up a median figure of one runtime's row (peers are always Node's). */
type Lookup = (caseKey: string, metric: string, system?: SystemId) => number | undefined;

interface TargetDef {
  what: string;
  value(get: Lookup): number | undefined;
  met(value: number): boolean;
  unit: "×" | "ms" | "";
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

/** A target met when `value` is at least `min` times (a ratio of two figures). */
function timesAtLeast(what: string, min: number, value: TargetDef["value"]): TargetDef {
  return { what, value, met: (v) => v >= min, unit: "×" };
}

/** A target met when the figure `metric` of `caseKey` is at most `max`. */
function atMost(
  what: string,
  [caseKey, metric]: [string, string],
  max: number,
  unit: "ms" | "",
): TargetDef {
  return { what, value: (get) => get(caseKey, metric), met: (v) => v <= max, unit };
}

function drainTargets(concurrency: number): TargetDef[] {
  const key = `drain-${concurrency}`;
  return [
    timesAtLeast(
      `drain in 1 process at concurrency ${concurrency} ≥ 2× BullMQ's`,
      2,
      (get) => ratio(get(key, "rate"), get(key, "rate", "bullmq")),
    ),
    timesAtLeast(
      `drain in 1 process at concurrency ${concurrency} ≥ 3× the sequential raw floor`,
      3,
      (get) => ratio(get(key, "rate"), get("drain-1", "rate", "floor")),
    ),
  ];
}

const LOAD = "1,000 jobs/s on 4 processes × 8";

const TARGETS: readonly TargetDef[] = [
  ...drainTargets(8),
  ...drainTargets(64),
  timesAtLeast(
    "drain by 4 processes × concurrency 8 ≥ 2× BullMQ's",
    2,
    (get) => ratio(get("drain-4x8", "rate"), get("drain-4x8", "rate", "bullmq")),
  ),
  timesAtLeast(
    `the same with prefetch ${SHARED_PREFETCH} (8 handlers each) ≥ 2× BullMQ's at concurrency 8`,
    2,
    (get) => ratio(get("drain-4x8-prefetch", "rate"), get("drain-4x8", "rate", "bullmq")),
  ),
  atMost(`${LOAD}: p50 ≤ 0.5 ms`, ["load-latency", "p50"], 0.5, "ms"),
  atMost(`${LOAD}: p99 ≤ 3 ms`, ["load-latency", "p99"], 3, "ms"),
  atMost(`${LOAD}: ≤ 5 SQLite statements per job`, ["load-latency", "statements"], 5, ""),
  atMost(`${LOAD}: no job waits more than 20 ms`, ["load-latency", "max"], 20, "ms"),
  {
    what: "idle worker: CPU per second at concurrency 64 = at concurrency 1 ± 10 %",
    value: (get) => ratio(get("idle-cpu-64", "cpu"), get("idle-cpu-1", "cpu")),
    met: (v) => Math.abs(v - 1) <= 0.1,
    unit: "×",
  },
  atMost("idle worker: enqueue → handler p50 ≤ 0.4 ms", ["idle-latency", "p50"], 0.4, "ms"),
];

function lookup(results: Results, runtime: string): Lookup {
  return (caseKey, metric, system = "honker") => {
    const onRuntime = system === "honker" || system === "floor";
    const target = { system, runtime: onRuntime ? runtime : "node" } as Target;
    return results.median(caseKey, target, metric);
  };
}

/**
 * One line per target: met or NOT MET on each runtime, with the figure; targets measured on no
 * runtime (cases left out with `--only`) are left out.
 */
export function targetLines(results: Results, runtimes: readonly string[]): string {
  return TARGETS.flatMap((t) => {
    const values = runtimes.map((runtime) => t.value(lookup(results, runtime)));
    if (values.every((v) => v === undefined)) return [];
    const verdicts = runtimes.map((runtime, i) => {
      const v = values[i];
      if (v === undefined) return `${runtime} not measured`;
      const shown = t.unit === "×" ? `${v.toFixed(2)}×` : `${v.toFixed(2)}${t.unit && " ms"}`;
      return `${runtime} ${t.met(v) ? "met" : "NOT MET"} (${shown})`;
    });
    return [`- ${t.what}: ${verdicts.join("; ")}`];
  }).join("\n");
}
