/**
 * A `SqliteDriver` that counts the statements it executes for the adapter it wraps, so the
 * peers benchmark can report how many SQLite statements honker-ts spends per job.
 *
 * Every call that reaches SQLite counts once: `run`, `get`, `all`, `values`, and `exec` (which
 * honker-ts uses for `BEGIN`, `COMMIT`, savepoints and pragmas). Statements that honker's SQL
 * functions run from inside another statement go through the same wrapper and count too.
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { observedDriver } from "../core/db/observed_driver.ts";

/** A driver that counts its statements; `statements` is the count so far. */
export interface CountingDriver extends SqliteDriver {
  /** Statements executed since the driver was made or `resetCount()` was called. */
  readonly statements: number;
  /** Starts counting from zero. */
  resetCount(): void;
  /** Statements executed since the last reset, by SQL text (most frequent first). */
  bySql(): [sql: string, count: number][];
}

/** Wraps `inner`, counting every statement; `close()` closes `inner`. */
export function countingDriver(inner: SqliteDriver): CountingDriver {
  let statements = 0;
  let texts = new Map<string, number>();
  const count = (sql: string) => {
    statements++;
    texts.set(sql, (texts.get(sql) ?? 0) + 1);
  };
  // Object.defineProperties keeps `statements` a live getter (Object.assign would copy a value).
  return Object.defineProperties(observedDriver(inner, count), {
    statements: { get: () => statements },
    resetCount: { value: () => void (statements = 0, texts = new Map()) },
    bySql: { value: () => [...texts].sort((a, b) => b[1] - a[1]) },
  }) as CountingDriver;
}
