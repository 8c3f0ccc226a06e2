/** Opens a fresh honker-ts Database per test for a driver of the matrix. */

import { fromDriver } from "../mod.ts";
import type { Database, SqliteDriver } from "../mod.ts";
import { statementLog } from "./_statement_log.ts";
import type { StatementLog } from "./_statement_log.ts";
import { withoutValues } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";

/** A test body that gets a fresh Database on its own temporary file. */
export type DbTest = (db: Database, path: string) => void | Promise<void>;

/**
 * Wraps a test body: opens a fresh file with the entry's driver, runs the body, closes both.
 */
export function withDb(entry: DriverEntry, body: DbTest): () => Promise<void> {
  return withWrappedDb(entry, (driver) => driver, (db, _driver, path) => body(db, path));
}

/**
 * `withDb` on a driver that logs its statements (`_statement_log.ts`), which the body also gets,
 * to count what honker-ts spends.
 */
export function withLoggedDb(
  entry: DriverEntry,
  body: (db: Database, driver: StatementLog) => void | Promise<void>,
): () => Promise<void> {
  return withWrappedDb(entry, statementLog, (db, driver) => body(db, driver));
}

/** `withDb` on the entry's driver without `values()`, so the core must read through `all()`. */
export function withDbWithoutValues(entry: DriverEntry, body: DbTest): () => Promise<void> {
  return withWrappedDb(entry, withoutValues, (db, _driver, path) => body(db, path));
}

function withWrappedDb<D extends SqliteDriver>(
  entry: DriverEntry,
  wrap: (driver: SqliteDriver) => D,
  body: (db: Database, driver: D, path: string) => void | Promise<void>,
): () => Promise<void> {
  return async () => {
    const path = tempDbPath();
    const driver = wrap(await entry.open(path));
    const db = fromDriver(driver);
    try {
      await body(db, driver, path);
    } finally {
      db.close();
      driver.close();
    }
  };
}

/** SQLite's idea of now, in unix seconds, as honker's SQL sees it. */
export function sqlNow(db: Database): number {
  return Number(db.driver.get<{ now: number }>("SELECT unixepoch() AS now")?.now);
}

/** Counts rows of a table (test-only SQL; table names are literals in the tests). */
export function countRows(db: Database, table: string, where = "1"): number {
  return Number(
    db.driver.get<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)?.n,
  );
}

/**
 * Every 50 ms, notes any claim past its expiry (one a rival worker could take) until `stop()`:
 * how a test shows that renewals kept every claim alive.
 */
export function watchLapsedClaims(db: Database): { lapsed: Set<number>; stop(): void } {
  const lapsed = new Set<number>();
  const timer = setInterval(() => {
    const rows = db.driver.all<{ id: number }>(
      "SELECT id FROM _honker_live WHERE state = 'processing' AND claim_expires_at < unixepoch()",
    );
    for (const row of rows) lapsed.add(row.id);
  }, 50);
  return { lapsed, stop: () => clearInterval(timer) };
}
