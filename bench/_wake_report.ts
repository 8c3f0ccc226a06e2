/**
 * The wake benchmark's arithmetic and tables: matching wakes to commits, percentiles, targets.
 *
 * @module
 */

/**
 * The waits the benchmark measures. `work` is the end-to-end enqueue → handler case, `work-ffi`
 * the same on the runtime's FFI adapter to the system libsqlite3; `bullmq` is the same through
 * BullMQ on a local Redis, the anchor the `work` cases are compared with.
 */
export type CaseMode = "fs" | "poll" | "ext" | "work" | "work-ffi" | "bullmq";

/** The cases whose wakes are `[handlerStartedAt, jobId]`, matched to commits by job id. */
function endToEnd(mode: CaseMode): boolean {
  return mode === "work" || mode === "work-ffi" || mode === "bullmq";
}

/** How well the writer's and the waiter's clocks agree. */
export interface ClockCheck {
  /** Tick-edge calibration intervals of the two children, in ms. */
  writerUncertaintyMs: number;
  waiterUncertaintyMs: number;
  /** Waiter clock minus writer clock by the pipe check (best ping each), ± bound, in ms. */
  pipeOffsetMs: number;
  pipeBoundMs: number;
  /** `timeOrigin + now()` minus the calibrated clock, in the waiter, in ms. */
  waiterRawSkewMs: number;
  /** How far each child's offset moved over the case (monotonic vs system clock), in ms. */
  writerDriftMs: number;
  waiterDriftMs: number;
}

/** One runtime × mode measurement. */
export interface CaseResult {
  runtime: string;
  mode: CaseMode;
  /** Why it was not measured. */
  skip?: string;
  /** The wake mode the Database reported at the end (auto resolves to fs or poll). */
  wakeMode?: string;
  commits?: number;
  /** Commit-returned → woken latencies, ms. */
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
  min?: number;
  /** Commits woken more than 5 ms late, counting those never woken. */
  late5?: number;
  /** Commits never woken. */
  missed?: number;
  wakesPerCommit?: number;
  /** The idle waiter's CPU, ms/s: the mean over 10 s, and its median 1 s sample. */
  idleCpuMsPerS?: number;
  idleMedianMsPerS?: number;
  /** The same runtime's idle CPU with honker-ts imported and nothing open (fs cases), ms/s. */
  idleFloorMsPerS?: number;
  idleFloorMedianMsPerS?: number;
  clock?: ClockCheck;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Latency of each commit: to the first wake that saw its id (updates modes; `max(id)` only
 * grows because nothing consumes the jobs), or to its handler's start (`work`, `bullmq`). NaN
 * when never.
 */
export function latencies(
  committed: Array<[number, number]>,
  wakes: Array<[number, number]>,
  mode: CaseMode,
): number[] {
  if (endToEnd(mode)) {
    const started = new Map(wakes.map(([at, id]) => [id, at]));
    return committed.map(([id, at]) => (started.get(id) ?? NaN) - at);
  }
  const sorted = [...wakes].sort((a, b) => a[0] - b[0]);
  let w = 0;
  return committed.map(([id, at]) => {
    while (w < sorted.length && sorted[w][1] < id) w++;
    return w < sorted.length ? sorted[w][0] - at : NaN;
  });
}

/** The latency figures of one case. */
export function summarise(lat: number[], wakes: number): Partial<CaseResult> {
  const seen = lat.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const missed = lat.length - seen.length;
  return {
    commits: lat.length,
    p50: percentile(seen, 50),
    p90: percentile(seen, 90),
    p99: percentile(seen, 99),
    max: seen.at(-1),
    min: seen[0],
    late5: seen.filter((x) => x > 5).length + missed,
    missed,
    wakesPerCommit: wakes / lat.length,
  };
}

const MODE_LABEL: Record<CaseMode, string> = {
  fs: "updates(), wake fs",
  poll: "updates(), wake poll",
  ext: "honker ext watcher (polling)",
  work: "enqueue → handler",
  "work-ffi": "enqueue → handler, FFI driver",
  bullmq: "BullMQ add → processor (local Redis)",
};

function ms(x: number | undefined, digits = 3): string {
  return x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${
      cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")
    } |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

/** `mean (median)` of an idle-CPU measurement, or a dash when there is none. */
function idleCell(mean: number | undefined, median: number | undefined): string {
  if (mean === undefined) return "–";
  return median === undefined ? ms(mean, 2) : `${ms(mean, 2)} (${ms(median, 2)})`;
}

/** The latency table, one row per runtime × mode. */
export function latencyTable(results: CaseResult[]): string {
  const header = ["runtime / wait", "p50 ms", "p90", "p99", "max", "min", ">5 ms", "wakes/commit"];
  header.push("idle CPU ms/s (median 1 s)", "runtime floor ms/s (median)");
  const notes: string[] = [];
  const rows = results.map((r) => {
    const label = `${r.runtime} ${MODE_LABEL[r.mode]}${
      r.mode.startsWith("work") && r.wakeMode ? ` (${r.wakeMode})` : ""
    }`;
    if (r.skip) {
      notes.push(`[${notes.length + 1}] ${r.runtime} ${r.mode}: ${r.skip}`);
      return [label, `skipped [${notes.length}]`, "", "", "", "", "", "", "", ""];
    }
    const late = `${r.late5}${r.missed ? ` (${r.missed} never)` : ""}`;
    return [
      label,
      ms(r.p50),
      ms(r.p90),
      ms(r.p99),
      ms(r.max),
      ms(r.min),
      late,
      endToEnd(r.mode) ? "–" : ms(r.wakesPerCommit, 2),
      idleCell(r.idleCpuMsPerS, r.idleMedianMsPerS),
      idleCell(r.idleFloorMsPerS, r.idleFloorMedianMsPerS),
    ];
  });
  return table(header, rows) + (notes.length ? `\n\nSkipped:\n${notes.join("\n")}` : "");
}

/** The clock-agreement table, one row per measured case. */
export function clockTable(results: CaseResult[]): string {
  const header = [
    "runtime / wait",
    "tick-edge ± writer/waiter ms",
    "pipe: waiter − writer ms",
    "raw timeOrigin skew ms",
    "drift writer/waiter ms",
  ];
  const rows = results.filter((r) => r.clock).map((r) => {
    const c = r.clock as ClockCheck;
    return [
      `${r.runtime} ${r.mode}`,
      `${ms(c.writerUncertaintyMs, 4)} / ${ms(c.waiterUncertaintyMs, 4)}`,
      `${ms(c.pipeOffsetMs)} ± ${ms(c.pipeBoundMs)}`,
      ms(c.waiterRawSkewMs, 2),
      `${ms(c.writerDriftMs)} / ${ms(c.waiterDriftMs)}`,
    ];
  });
  return table(header, rows);
}

/** A target: the case it applies to, the figure, and its bound. */
interface Target {
  mode: CaseMode;
  what: string;
  value: (r: CaseResult) => number | undefined;
  limit: number;
}

const TARGETS: Target[] = [
  { mode: "fs", what: "fs p50 ≤ 0.3 ms", value: (r) => r.p50, limit: 0.3 },
  { mode: "fs", what: "fs p99 ≤ 2 ms", value: (r) => r.p99, limit: 2 },
  { mode: "fs", what: "fs commits >5 ms = 0", value: (r) => r.late5, limit: 0 },
  { mode: "fs", what: "fs idle CPU ≤ 2 ms/s", value: (r) => r.idleCpuMsPerS, limit: 2 },
  { mode: "poll", what: "poll p50 ≤ 1 ms", value: (r) => r.p50, limit: 1 },
  { mode: "work", what: "end-to-end p50 ≤ 0.5 ms", value: (r) => r.p50, limit: 0.5 },
  { mode: "work", what: "end-to-end p99 ≤ 2 ms", value: (r) => r.p99, limit: 2 },
  { mode: "work-ffi", what: "end-to-end (FFI) p50 ≤ 0.5 ms", value: (r) => r.p50, limit: 0.5 },
  { mode: "work-ffi", what: "end-to-end (FFI) p99 ≤ 2 ms", value: (r) => r.p99, limit: 2 },
];

/** Met / not met for every target on every runtime. */
export function targetTable(results: CaseResult[]): string {
  const runtimes = [...new Set(results.map((r) => r.runtime))];
  const rows = TARGETS.map((t) => [
    t.what,
    ...runtimes.map((runtime) => {
      const r = results.find((x) => x.runtime === runtime && x.mode === t.mode);
      const v = r && !r.skip ? t.value(r) : undefined;
      if (v === undefined || Number.isNaN(v)) return r?.skip ? "n/a (skipped)" : "not measured";
      return `${v <= t.limit ? "met" : "NOT MET"} (${ms(v, t.limit === 0 ? 0 : 3)})`;
    }),
  ]);
  return table(["target", ...runtimes], rows);
}

/**
 * honker-ts's end-to-end figures (default driver, and FFI driver) divided by BullMQ's on the same
 * runtime in the same run, where both were measured: below 1 means honker-ts starts handlers
 * sooner.
 */
export function anchorTable(results: CaseResult[]): string {
  const figures = ["p50", "p90", "p99"] as const;
  const runtimes = [...new Set(results.map((r) => r.runtime))];
  const rows: string[][] = [];
  for (const runtime of runtimes) {
    const anchor = results.find((r) => r.runtime === runtime && r.mode === "bullmq" && !r.skip);
    for (const mode of ["work", "work-ffi"] as const) {
      const ours = results.find((r) => r.runtime === runtime && r.mode === mode && !r.skip);
      if (!ours && mode === "work-ffi") continue;
      rows.push([
        `${runtime} ${MODE_LABEL[mode]}`,
        ...figures.map((f) => {
          const [a, b] = [ours?.[f], anchor?.[f]];
          if (a === undefined || b === undefined) return "not measured";
          return `${ms(a)} ÷ ${ms(b)} = ${(a / b).toFixed(2)}`;
        }),
      ]);
    }
  }
  return table(["honker-ts case", ...figures.map((f) => `${f} ms`)], rows);
}
