/**
 * A driver that calls a hook before each statement it passes on: one pass-through wrapper for
 * what needs to see every statement on a connection — `db.driver` giving the connection its
 * foreground busy timeout back first, and the tests' and benchmarks' statement counters.
 *
 * @module
 */

import type { Row, RunResult, SqliteDriver, SqlValue } from "./driver.ts";

/** Called before each statement with its SQL and parameters (none for `exec`). */
export type StatementHook = (sql: string, params?: readonly SqlValue[]) => void;

/** `inner`, calling `before()` ahead of each statement; `close()` closes `inner`. */
export function observedDriver(inner: SqliteDriver, before: StatementHook): SqliteDriver {
  const observed: SqliteDriver = {
    name: inner.name,
    path: inner.path,
    reentrantFunctions: inner.reentrantFunctions,
    exec(sql: string): void {
      before(sql);
      inner.exec(sql);
    },
    run(sql: string, params?: readonly SqlValue[]): RunResult {
      before(sql, params);
      return inner.run(sql, params);
    },
    all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
      before(sql, params);
      return inner.all<T>(sql, params);
    },
    get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
      before(sql, params);
      return inner.get<T>(sql, params);
    },
    inTransaction: () => inner.inTransaction(),
    close: () => inner.close(),
  };
  const values = inner.values?.bind(inner);
  if (values) {
    observed.values = (sql, params) => {
      before(sql, params);
      return values(sql, params);
    };
  }
  const fn = inner.function?.bind(inner);
  if (fn) observed.function = (name, body, options) => fn(name, body, options);
  return observed;
}
