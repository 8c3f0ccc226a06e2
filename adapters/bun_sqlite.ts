/**
 * Adapter for Bun's built-in `bun:sqlite`.
 *
 * bun:sqlite silently rounds integers above 2^53 and silently binds 0 for bigints past the
 * 64-bit range; this adapter reads with `safeIntegers` and throws a RangeError instead, and it
 * rejects booleans and `undefined` that bun:sqlite would quietly store as 1 and NULL.
 *
 * ```ts ignore
 * import { openBunSqlite } from "honker-ts/adapters/bun-sqlite";
 *
 * const driver = await openBunSqlite("app.db");
 * console.log(driver.get("SELECT sqlite_version() AS v"));
 * driver.close();
 * ```
 *
 * @module
 */

import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { bigintToNumber, handlePath, rowToNumbers, valuesToNumbers } from "./_shared.ts";
import { openError } from "./_sqlite_errors.ts";
import { registerOn, StatementDriver } from "./_statement_driver.ts";

/** The subset of a bun:sqlite `Statement` this adapter calls. */
export interface BunSqliteStatementLike {
  /** Runs the statement and reports changes. */
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  /** Returns every row. */
  all(...params: SqlValue[]): unknown[];
  /** Returns the first row or null. */
  get(...params: SqlValue[]): unknown;
  /** Returns every row as an array of column values. */
  values(...params: SqlValue[]): unknown[][];
  /** Makes the statement read integers as bigint. */
  safeIntegers(enabled: boolean): unknown;
  /** Frees the statement. */
  finalize(): void;
}

/** The subset of a bun:sqlite `Database` this adapter calls. */
export interface BunSqliteDatabaseLike {
  /** Compiles one statement, uncached. */
  prepare(sql: string): BunSqliteStatementLike;
  /** Runs SQL without parameters. */
  exec(sql: string): unknown;
  /** Whether a transaction is open. */
  readonly inTransaction: boolean;
  /** The path the database was opened with. */
  readonly filename?: string;
  /** Closes the connection. */
  close(): void;
  /** Registers a scalar function. */
  function?(
    name: string,
    options: { deterministic?: boolean; varargs?: boolean },
    fn: (...args: SqlValue[]) => SqlValue,
  ): void;
}

/** Options for {@linkcode fromBunSqlite}. */
export interface FromBunSqliteOptions {
  /** The path the handle was opened with. Defaults to the handle's `filename`. */
  path?: string;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
  /** Whether `close()` also closes the handle. Defaults to true. */
  ownsHandle?: boolean;
}

/** Options for {@linkcode openBunSqlite}. */
export interface OpenBunSqliteOptions {
  /** Milliseconds to wait for a lock before SQLITE_BUSY. Defaults to 5000. */
  busyTimeoutMs?: number;
  /** Open read-only. */
  readOnly?: boolean;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
}

/** What bun:sqlite does its own way, for {@linkcode StatementDriver}. */
function bunSqliteDriver(
  db: BunSqliteDatabaseLike,
  options: FromBunSqliteOptions,
): StatementDriver<BunSqliteStatementLike> {
  return new StatementDriver<BunSqliteStatementLike>({
    name: "bun:sqlite",
    path: handlePath("bun:sqlite", options.path, () => db.filename),
    integersAsBigInt: false,
    reentrantFunctions: false,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: options.ownsHandle,
    prepare: (sql) => {
      const statement = db.prepare(sql);
      statement.safeIntegers(true);
      return statement;
    },
    finalize: (statement) => statement.finalize(),
    run: (statement, values) => {
      const result = statement.run(...values);
      return {
        changes: result.changes,
        lastInsertRowid: typeof result.lastInsertRowid === "bigint"
          ? bigintToNumber(result.lastInsertRowid, "lastInsertRowid")
          : result.lastInsertRowid,
      };
    },
    all: (statement, values) => {
      const rows = statement.all(...values) as Row[];
      for (const row of rows) rowToNumbers(row);
      return rows;
    },
    get: (statement, values) => {
      const row = statement.get(...values) as Row | null;
      return row === null ? undefined : rowToNumbers(row);
    },
    values: (statement, values) => valuesToNumbers(statement.values(...values)),
    exec: (sql) => void db.exec(sql),
    inTransaction: () => db.inTransaction,
    function: registerOn("bun:sqlite", db),
    close: () => db.close(),
  });
}

/**
 * Wraps a bun:sqlite `Database` the caller already opened.
 *
 * The driver's path is the handle's `filename` (the path it was opened with) unless
 * `options.path` says otherwise.
 *
 * @param db The open handle.
 * @param options The path it was opened with, cache size, and whether `close()` closes it.
 * @returns A driver sharing the caller's connection.
 *
 * @example Share the application's own connection
 * ```ts ignore
 * import { Database } from "bun:sqlite";
 * import { fromBunSqlite } from "honker-ts/adapters/bun-sqlite";
 *
 * const handle = new Database("app.db");
 * const driver = fromBunSqlite(handle, { ownsHandle: false });
 * ```
 */
export function fromBunSqlite(
  db: BunSqliteDatabaseLike,
  options: FromBunSqliteOptions = {},
): SqliteDriver {
  return bunSqliteDriver(db, options);
}

/**
 * Opens a database file with bun:sqlite, loading the module only when called.
 *
 * @param path The database file, created if missing.
 * @param options Busy timeout, read-only mode and cache size.
 * @returns A driver that owns its connection.
 * @throws {Error} When not running on Bun.
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that is missing.
 *
 * @example Open a file
 * ```ts ignore
 * import { openBunSqlite } from "honker-ts/adapters/bun-sqlite";
 *
 * const driver = await openBunSqlite("app.db");
 * ```
 */
export async function openBunSqlite(
  path: string,
  options: OpenBunSqliteOptions = {},
): Promise<SqliteDriver> {
  let mod: { Database: new (path: string, options?: object) => BunSqliteDatabaseLike };
  try {
    mod = await import("bun:sqlite" as string) as typeof mod;
  } catch (error) {
    throw new Error("Cannot open with bun:sqlite: this runtime is not Bun", { cause: error });
  }
  let handle: BunSqliteDatabaseLike;
  try {
    handle = new mod.Database(
      path,
      options.readOnly ? { readonly: true } : { create: true, readwrite: true },
    );
  } catch (error) {
    throw await openError(path, error);
  }
  handle.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  return fromBunSqlite(handle, {
    path,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: true,
  });
}
