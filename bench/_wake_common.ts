/**
 * What the wake benchmark's processes share: a wall clock that agrees across processes, a
 * seeded PRNG, process CPU time, and the line protocol children speak over stdin/stdout.
 *
 * Why not `performance.timeOrigin + performance.now()`: it disagrees with the system clock by up
 * to 21 ms right after start-up in Deno and Bun (notes/runtimes.md §4). Instead each process
 * finds the instant `Date.now()` ticks over, with `performance.now()` read tightly on both
 * sides, and takes that as the offset from its monotonic clock to the system clock.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import process from "node:process";

/** The monotonic clock, offset onto the system clock (Unix ms, sub-ms resolution). */
export interface WallClock {
  /** Unix time in ms, fractional. */
  now(): number;
  /** Width of the interval the tick edges pinned the offset to, in ms. */
  uncertaintyMs: number;
  /** How far `performance.timeOrigin + performance.now()` is from this clock, in ms. */
  rawSkewMs: number;
}

/** One `Date.now()` tick edge: the offset lies within [lo, hi]. */
function tickEdge(): { lo: number; hi: number } {
  let before = performance.now();
  let last = Date.now();
  for (;;) {
    const a = performance.now();
    const d = Date.now();
    const b = performance.now();
    if (d !== last) {
      // The tick to d happened after `before` (last read still saw d-1) and before `b`.
      return { lo: d - b, hi: d - before };
    }
    last = d;
    before = a;
  }
}

/** The offset from `performance.now()` to Unix ms, from the tightest of `edges` tick edges. */
export function measureOffset(edges = 5): { offsetMs: number; uncertaintyMs: number } {
  let lo = -Infinity;
  let hi = Infinity;
  let best = { lo: 0, hi: Infinity };
  for (let i = 0; i < edges; i++) {
    const edge = tickEdge();
    lo = Math.max(lo, edge.lo);
    hi = Math.min(hi, edge.hi);
    if (edge.hi - edge.lo < best.hi - best.lo) best = edge;
  }
  // Intersecting all edges is tightest; if they disagree (clock slew), trust the single best.
  const [l, h] = lo <= hi ? [lo, hi] : [best.lo, best.hi];
  return { offsetMs: (l + h) / 2, uncertaintyMs: h - l };
}

/** Calibrates this process's wall clock. */
export function wallClock(): WallClock {
  const { offsetMs, uncertaintyMs } = measureOffset();
  const now = () => performance.now() + offsetMs;
  return { now, uncertaintyMs, rawSkewMs: performance.timeOrigin + performance.now() - now() };
}

/** The seeded PRNG the benchmarks draw their gaps from (mulberry32, shared with the tests). */
export { mulberry32 as prng } from "../tests/_prng.ts";

/** CPU time of the whole process (every thread) so far, in ms. */
export function cpuMs(): number {
  if (typeof process.cpuUsage === "function") {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  // utime + stime, fields 14 and 15, in clock ticks (10 ms): coarse, but better than nothing.
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Writes one JSON message to the parent. */
export function send(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Writes a last message and exits once it is flushed. */
export function sendAndExit(message: unknown): void {
  process.stdout.write(`${JSON.stringify(message)}\n`, () => process.exit(0));
}

/** Calls `onCommand` for every line the parent sends; exits when the parent goes away. */
export function onCommands(onCommand: (command: string) => void): void {
  let buffered = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onCommand(line);
    }
  });
  process.stdin.on("end", () => process.exit(0));
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
