/**
 * A driver wrapper for tests that records every statement it runs (SQL and parameters), so a test
 * can count what honker-ts spends: commits per batch of acks, looks per wake-up.
 *
 * @module
 */

import type { SqliteDriver, SqlValue } from "../mod.ts";
import { observedDriver } from "../core/db/observed_driver.ts";

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
  const driver: StatementLog = Object.assign(
    observedDriver(inner, (sql, params = []) => {
      if (driver.recording) log.push({ sql, params });
    }),
    { log, recording: true },
  );
  return driver;
}
