/**
 * The connection as the application sees it (`db.driver`): every call first gives the
 * connection back its foreground busy timeout. honker-ts's background writes leave their short
 * one in place afterwards (setting it back after each would cost two PRAGMAs per claim and per
 * ack batch); the application's calls through the API restore it in `open()`, and raw statements
 * on `db.driver` through this wrapper.
 *
 * @module
 */

import type { Row, RunResult, SqliteDriver, SqlValue } from "./driver.ts";

/** `driver`, calling `beforeCall()` before each statement; `close()` closes `driver`. */
export function foregroundDriver(driver: SqliteDriver, beforeCall: () => void): SqliteDriver {
  const wrapped: SqliteDriver = {
    name: driver.name,
    path: driver.path,
    reentrantFunctions: driver.reentrantFunctions,
    exec(sql: string): void {
      beforeCall();
      driver.exec(sql);
    },
    run(sql: string, params?: readonly SqlValue[]): RunResult {
      beforeCall();
      return driver.run(sql, params);
    },
    all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
      beforeCall();
      return driver.all<T>(sql, params);
    },
    get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
      beforeCall();
      return driver.get<T>(sql, params);
    },
    inTransaction: () => driver.inTransaction(),
    close: () => driver.close(),
  };
  const values = driver.values?.bind(driver);
  if (values) {
    wrapped.values = (sql, params) => {
      beforeCall();
      return values(sql, params);
    };
  }
  const fn = driver.function?.bind(driver);
  if (fn) wrapped.function = (name, body, options) => fn(name, body, options);
  return wrapped;
}
