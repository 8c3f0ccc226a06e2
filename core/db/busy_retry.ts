/**
 * A driver that waits for another connection's write lock in short steps, for honker-ts's own
 * background writes: while `retrying()` says so, a statement that fails with SQLITE_BUSY outside
 * a transaction (an autocommit write, or the BEGIN IMMEDIATE that opens one) is tried again
 * after a sleep that starts at 50 µs and doubles up to 1 ms, until `budgetMs` have passed.
 *
 * Why not SQLite's own busy handler: it sleeps 1, 2, 5, 10 ms between tries, never less, while
 * a claim or an ack batch holds the lock for a tenth of a millisecond. Several processes woken
 * by one commit all try to claim, and each loser slept a whole millisecond behind a lock free
 * long before. The connection's own busy timeout is 0 during background writes, so SQLite
 * reports busy at once and this loop decides how long to wait.
 *
 * A busy statement outside a transaction changed nothing (SQLite takes the write lock before it
 * writes), so trying it again is safe. Inside a transaction nothing is retried: BEGIN IMMEDIATE
 * holds the write lock for all of it, and a deferred transaction's failed upgrade must be rolled
 * back by its owner, not repeated.
 *
 * @module
 */

import type { Row, RunResult, SqliteDriver, SqlValue } from "./driver.ts";
import { isTransientSqliteError } from "./errors.ts";
import { sleepSync } from "../wait/sleep_sync.ts";

/** The first sleep between tries; each next one doubles, up to BUSY_STEP_MAX_MS. */
const BUSY_STEP_MIN_MS = 0.05;
const BUSY_STEP_MAX_MS = 1;

/**
 * `inner`, retrying busy statements outside a transaction while `retrying()` is true, for at
 * most `budgetMs` per statement; `close()` closes `inner`.
 */
export function busyRetryingDriver(
  inner: SqliteDriver,
  retrying: () => boolean,
  budgetMs: number,
): SqliteDriver {
  const patiently = <T>(call: () => T): T => {
    if (!retrying()) return call();
    let deadline = 0;
    for (let step = BUSY_STEP_MIN_MS;; step = Math.min(step * 2, BUSY_STEP_MAX_MS)) {
      try {
        return call();
      } catch (error) {
        if (!isTransientSqliteError(error) || inner.inTransaction()) throw error;
        const now = performance.now();
        if (deadline === 0) deadline = now + budgetMs;
        if (now >= deadline) throw error;
        sleepSync(Math.min(step, deadline - now));
      }
    }
  };
  const driver: SqliteDriver = {
    name: inner.name,
    path: inner.path,
    reentrantFunctions: inner.reentrantFunctions,
    exec: (sql: string): void => patiently(() => inner.exec(sql)),
    run: (sql: string, params?: readonly SqlValue[]): RunResult =>
      patiently(() => inner.run(sql, params)),
    all: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] =>
      patiently(() => inner.all<T>(sql, params)),
    get: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined =>
      patiently(() => inner.get<T>(sql, params)),
    inTransaction: () => inner.inTransaction(),
    close: () => inner.close(),
  };
  const values = inner.values?.bind(inner);
  if (values) driver.values = (sql, params) => patiently(() => values(sql, params));
  const fn = inner.function?.bind(inner);
  if (fn) driver.function = (name, body, options) => fn(name, body, options);
  return driver;
}
