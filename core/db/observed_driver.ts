/**
 * A driver that calls a hook before each statement it passes on: one pass-through wrapper for
 * what needs to see every statement on a connection — `db.driver` giving the connection its
 * foreground busy timeout back first, and the tests' and benchmarks' statement counters (and the
 * benchmarks' statement timings: a hook may return what to call once the statement is over).
 *
 * @module
 */

import type { Row, RunResult, SqliteDriver, SqlValue } from "./driver.ts";

/**
 * Called before each statement with its SQL and parameters (none for `exec`). What it returns,
 * when a function, is called once the statement is over, whether it returned or threw.
 */
export type StatementHook = (
  sql: string,
  params?: readonly SqlValue[],
) => void | (() => void);

/** `inner`, calling `before()` ahead of each statement; `close()` closes `inner`. */
export function observedDriver(inner: SqliteDriver, before: StatementHook): SqliteDriver {
  const observe = <R>(sql: string, params: readonly SqlValue[] | undefined, call: () => R): R => {
    const after = before(sql, params);
    if (typeof after !== "function") return call();
    try {
      return call();
    } finally {
      after();
    }
  };
  const observed: SqliteDriver = {
    name: inner.name,
    path: inner.path,
    reentrantFunctions: inner.reentrantFunctions,
    exec(sql: string): void {
      observe(sql, undefined, () => inner.exec(sql));
    },
    run(sql: string, params?: readonly SqlValue[]): RunResult {
      return observe(sql, params, () => inner.run(sql, params));
    },
    all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
      return observe(sql, params, () => inner.all<T>(sql, params));
    },
    get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
      return observe(sql, params, () => inner.get<T>(sql, params));
    },
    inTransaction: () => inner.inTransaction(),
    close: () => inner.close(),
  };
  const values = inner.values?.bind(inner);
  if (values) observed.values = (sql, params) => observe(sql, params, () => values(sql, params));
  const fn = inner.function?.bind(inner);
  if (fn) observed.function = (name, body, options) => fn(name, body, options);
  return observed;
}
