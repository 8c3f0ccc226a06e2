/**
 * What the pages show, read with plain SQL from `dashboard/sql.ts`: no bootstrap, no SQL
 * function and no write, so every read works on a read-only connection to a file written by
 * any honker binding. A table the file lacks reads as empty.
 *
 * This file holds what every read shares: the snapshot, the index-seek and count helpers, and
 * the count cap.
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import * as SQL from "./sql.ts";

/** Lag above this many events is estimated from offsets instead of counted. */
export const COUNT_CAP = 10_000;

type Row = Record<string, string | number | null>;

/** One read of the file: its connection, its tables, and SQLite's clock at the start. */
export interface Snapshot {
  driver: SqliteDriver;
  tables: ReadonlySet<string>;
  now: number;
}

/** Starts a read: the tables present and SQLite's "now". */
export function snapshot(driver: SqliteDriver): Snapshot {
  const tables = new Set(driver.all<{ name: string }>(SQL.TABLES).map((r) => r.name));
  const now = Number(driver.get<{ now: number }>(SQL.NOW)?.now ?? 0);
  return { driver, tables, now };
}

/** Names in index order, one seek each (`sql` gives the next after its parameter). */
export function skipScan(driver: SqliteDriver, sql: string, column: string): string[] {
  const names: string[] = [];
  let after = "";
  for (;;) {
    const next = driver.get<Row>(sql, [after])?.[column];
    if (next === null || next === undefined) return names;
    names.push(String(next));
    after = String(next);
  }
}

/** The first row of a count query, or an empty row. */
export function count(driver: SqliteDriver, sql: string, params: (string | number)[]): Row {
  return driver.get<Row>(sql, params) ?? {};
}
