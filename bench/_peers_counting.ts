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

import type { Row, RunResult, SqliteDriver, SqlValue } from "../core/db/driver.ts";

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
  const driver: CountingDriver = {
    name: inner.name,
    path: inner.path,
    reentrantFunctions: inner.reentrantFunctions,
    get statements() {
      return statements;
    },
    resetCount: () => void (statements = 0, texts = new Map()),
    bySql: () => [...texts].sort((a, b) => b[1] - a[1]),
    exec(sql: string): void {
      count(sql);
      inner.exec(sql);
    },
    run(sql: string, params?: readonly SqlValue[]): RunResult {
      count(sql);
      return inner.run(sql, params);
    },
    all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
      count(sql);
      return inner.all<T>(sql, params);
    },
    get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
      count(sql);
      return inner.get<T>(sql, params);
    },
    inTransaction: () => inner.inTransaction(),
    close: () => inner.close(),
  };
  const values = inner.values?.bind(inner);
  if (values) {
    driver.values = (sql, params) => {
      count(sql);
      return values(sql, params);
    };
  }
  const fn = inner.function?.bind(inner);
  if (fn) driver.function = (name, body, options) => fn(name, body, options);
  return driver;
}
