/**
 * A driver wrapper for tests that records every statement it runs (SQL and parameters), so a test
 * can count what honker-ts spends: commits per batch of acks, looks per wake-up.
 *
 * @module
 */

import type { Row, RunResult, SqliteDriver, SqlValue } from "../mod.ts";

/** One statement as run: its SQL and its parameters. */
export interface LoggedStatement {
  sql: string;
  params: readonly SqlValue[];
}

/** A driver that logs its statements into `log` while `recording` is true. */
export interface StatementLog extends SqliteDriver {
  readonly log: LoggedStatement[];
  recording: boolean;
}

/** Wraps `inner`; `close()` closes it. */
export function statementLog(inner: SqliteDriver): StatementLog {
  const log: LoggedStatement[] = [];
  const note = (sql: string, params: readonly SqlValue[] = []) => {
    if (driver.recording) log.push({ sql, params });
  };
  const driver: StatementLog = {
    name: inner.name,
    path: inner.path,
    reentrantFunctions: inner.reentrantFunctions,
    log,
    recording: true,
    exec: (sql: string) => (note(sql), inner.exec(sql)),
    run: (sql: string, params?: readonly SqlValue[]): RunResult => (
      note(sql, params), inner.run(sql, params)
    ),
    all: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] => (
      note(sql, params), inner.all<T>(sql, params)
    ),
    get: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined => (
      note(sql, params), inner.get<T>(sql, params)
    ),
    inTransaction: () => inner.inTransaction(),
    close: () => inner.close(),
  };
  const values = inner.values?.bind(inner);
  if (values) driver.values = (sql, params) => (note(sql, params), values(sql, params));
  const fn = inner.function?.bind(inner);
  if (fn) driver.function = (name, body, options) => fn(name, body, options);
  return driver;
}
