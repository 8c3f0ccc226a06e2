/**
 * A `SqliteDriver` that counts the statements it executes for the adapter it wraps, so the
 * peers benchmark can report how many SQLite statements honker-ts spends per job.
 *
 * Every call that reaches SQLite counts once: `run`, `get`, `all`, `values`, and `exec` (which
 * honker-ts uses for `BEGIN`, `COMMIT`, savepoints and pragmas). Statements that honker's SQL
 * functions run from inside another statement go through the same wrapper and count too.
 * With `timed`, each statement is also timed: the time a statement spends includes any sleep in
 * SQLite's busy handler (1 ms at the first refusal of the write lock), which is how a run shows
 * the writes that waited for another process's.
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { observedDriver } from "../core/db/observed_driver.ts";

/** A statement that took longer than this is counted as one that waited (a busy-handler sleep). */
export const WAITED_MS = 0.8;

/** What the statements of one SQL text cost since the last reset. */
export interface SqlCost {
  /** Executions. */
  count: number;
  /** Milliseconds spent in them, when timed. */
  ms: number;
  /** Executions that took over WAITED_MS, when timed. */
  waited: number;
}

/** A driver that counts its statements; `statements` is the count so far. */
export interface CountingDriver extends SqliteDriver {
  /** Statements executed since the driver was made or `resetCount()` was called. */
  readonly statements: number;
  /** Starts counting from zero. */
  resetCount(): void;
  /** What each SQL text cost since the last reset (most time first; times only when timed). */
  costBySql(): [sql: string, cost: SqlCost][];
}

/** Wraps `inner`, counting every statement (and timing it, with `timed`); `close()` closes `inner`. */
export function countingDriver(
  inner: SqliteDriver,
  options: { timed?: boolean } = {},
): CountingDriver {
  let statements = 0;
  let costs = new Map<string, SqlCost>();
  const count = (sql: string) => {
    statements++;
    let cost = costs.get(sql);
    if (cost === undefined) costs.set(sql, cost = { count: 0, ms: 0, waited: 0 });
    cost.count++;
    if (!options.timed) return;
    const t0 = performance.now();
    return () => {
      const ms = performance.now() - t0;
      cost.ms += ms;
      if (ms > WAITED_MS) cost.waited++;
    };
  };
  const observed = observedDriver(inner, count);
  // Object.defineProperties keeps `statements` a live getter (Object.assign would copy a value).
  return Object.defineProperties(observed, {
    statements: { get: () => statements },
    resetCount: { value: () => void (statements = 0, costs = new Map()) },
    costBySql: { value: () => [...costs].sort((a, b) => b[1].ms - a[1].ms) },
  }) as CountingDriver;
}
