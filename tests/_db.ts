/** Opens a fresh honker-ts Database per test for a driver of the matrix. */

import { fromDriver } from "../mod.ts";
import type { Database } from "../mod.ts";
import type { DriverEntry } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";

/** A test body that gets a fresh Database on its own temporary file. */
export type DbTest = (db: Database, path: string) => void | Promise<void>;

/**
 * Wraps a test body: opens a fresh file with the entry's driver, runs the body, closes both.
 */
export function withDb(entry: DriverEntry, body: DbTest): () => Promise<void> {
  return async () => {
    const path = tempDbPath();
    const driver = await entry.open(path);
    const db = fromDriver(driver);
    try {
      await body(db, path);
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
