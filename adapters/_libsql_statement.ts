/**
 * How the libsql adapter reads libsql's statements: in raw mode, building rows itself, and
 * resetting one that SQLITE_BUSY left resumable. Private to `adapters/`.
 *
 * @module
 */

import type { Row, SqlValue } from "../core/db/driver.ts";
import { bigintToNumber } from "./_shared.ts";

/** The subset of a libsql `Statement` this adapter calls. */
export interface LibsqlStatementLike {
  /** Runs the statement and reports changes. */
  run(params: readonly SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  /** Returns every row. */
  all(params: readonly SqlValue[]): unknown[];
  /** Makes `all()` and `get()` return arrays of column values. */
  raw(enabled?: boolean): unknown;
  /** Makes the statement read integers as bigint. */
  safeIntegers(enabled?: boolean): unknown;
  /** The columns of the rows it returns. */
  columns(): { name: string }[];
  /** Whether the statement returns rows. */
  readonly reader: boolean;
}

/** The subset of a libsql `Database` this adapter calls. */
export interface LibsqlDatabaseLike {
  /** Compiles one statement. */
  prepare(sql: string): LibsqlStatementLike;
  /** Runs SQL without parameters. */
  exec(sql: string): unknown;
  /** Whether a transaction is open. */
  readonly inTransaction: boolean;
  /** Whether the database is `":memory:"`. */
  readonly memory?: boolean;
  /** Empty in libsql 0.5. */
  readonly name?: string;
  /** Closes the connection. */
  close(): unknown;
}

/** A statement this adapter prepared, with what it learnt once about it. */
export interface Prepared {
  readonly statement: LibsqlStatementLike;
  /** Whether it returns rows (then it is in raw mode). */
  readonly reader: boolean;
  /** Its column names, in order. */
  readonly names: readonly string[];
}

/** Prepares `sql` reading integers as bigint and, when it returns rows, rows as arrays. */
export function prepare(db: LibsqlDatabaseLike, sql: string): Prepared {
  const statement = db.prepare(sql);
  statement.safeIntegers(true);
  const reader = statement.reader;
  if (!reader) return { statement, reader, names: [] };
  statement.raw(true);
  return { statement, reader, names: statement.columns().map((column) => column.name) };
}

/** Whether libsql's error is SQLITE_BUSY or SQLITE_LOCKED, which leave a statement resumable. */
export function isResumable(error: unknown): boolean {
  const code = (error as { rawCode?: unknown })?.rawCode;
  return typeof code === "number" && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/** Rewrites, in place, the cells of a row read as an array by the contract's value rules. */
export function toSqlValues(cells: unknown[]): SqlValue[] {
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (typeof cell === "bigint") cells[i] = bigintToNumber(cell, i + 1);
    else if (cell instanceof ArrayBuffer) cells[i] = new Uint8Array(cell);
  }
  return cells as SqlValue[];
}

/** A row object from a row read as an array. */
export function toRow(names: readonly string[], cells: unknown[]): Row {
  const row: Row = {};
  for (let i = 0; i < names.length; i++) {
    const cell = cells[i];
    row[names[i]] = typeof cell === "bigint"
      ? bigintToNumber(cell, names[i])
      : cell instanceof ArrayBuffer
      ? new Uint8Array(cell)
      : cell as SqlValue;
  }
  return row;
}

/**
 * Resets a statement that SQLITE_BUSY or SQLITE_LOCKED left resumable, before anything else
 * runs on the connection. libsql resets a statement only when it runs it again, and until then
 * the stalled write counts as running: the connection's later writes in autocommit mode stay
 * uncommitted (holding SQLite's write lock), and the reset rolls all of them back, after
 * `run()` reported them done. Running it again with `PRAGMA query_only` set resets it and
 * stops it at its first write, so nothing is written twice.
 */
export function reset(
  db: LibsqlDatabaseLike,
  statement: LibsqlStatementLike,
  values: readonly SqlValue[],
): void {
  const read = db.prepare("PRAGMA query_only");
  read.raw(true);
  const [[queryOnly]] = read.all([]) as unknown[][];
  db.exec("PRAGMA query_only = 1");
  try {
    statement.run(values);
  } catch {
    // SQLITE_READONLY at its first write: the reset is what was wanted.
  } finally {
    db.exec(`PRAGMA query_only = ${Number(queryOnly) ? 1 : 0}`);
  }
}

/** Reads every row as an array of cells; none for a statement that returns none. */
export function rows({ statement, reader }: Prepared, values: readonly SqlValue[]): unknown[][] {
  if (reader) return statement.all(values) as unknown[][];
  statement.run(values);
  return [];
}
