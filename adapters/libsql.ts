/**
 * Adapter for a `Database` of the npm package `libsql`: better-sqlite3's API over libSQL,
 * Turso's embedded SQLite engine. It loads on Node, Deno and Bun.
 *
 * What libsql does, and how this adapter meets the driver contract anyway:
 * - It binds every JS number as REAL; the adapter binds integer numbers as INTEGER by handing
 *   them over as bigints.
 * - It reads integers beyond 2^53 as silently rounded numbers; the adapter switches every
 *   statement it prepares to `safeIntegers(true)` and turns the bigints into numbers, or a
 *   RangeError when one would lose precision.
 * - `get()` adds a `_metadata` property to the row (overwriting a column of that name), and
 *   rows from `all()` carry blobs as `ArrayBuffer`s; the adapter reads every row as an array
 *   (`raw()`) and builds the row from the statement's column names itself.
 * - `get()` does not reset its statement before running it, so after a failure it would resume
 *   the failed execution with its old parameters; the adapter reads through `all()`, which
 *   resets first, and reads the statement to its end, so no read stays open.
 * - A statement that failed with SQLITE_BUSY is left resumable until its next run: meanwhile the
 *   connection's later writes do not commit, and that next run rolls them back after they were
 *   reported done. The adapter resets such a statement at once (see `#reset`).
 * - Its statement methods take one object argument as named parameters, so a single `null` or
 *   blob parameter is misread (a null aborts with "failed to downcast any to object"); the
 *   adapter always hands over the parameters as one array.
 * - A boolean parameter aborts the whole process (a Rust panic); the contract refuses booleans
 *   with a TypeError before anything reaches libsql.
 * - `run()` of a statement that returns rows reports 0 changes; the adapter steps such a
 *   statement to its end and reads `changes()` and `last_insert_rowid()`.
 * - `Database.function()` throws "not implemented", so this driver has no `function()` and
 *   honker's SQL functions are not available on it.
 * - Text is read up to its first NUL character; this cannot be repaired from outside libsql.
 * - Its `Database.name` is empty: `fromLibsql(handle)` needs `{ path }` (except for
 *   `":memory:"`, which the handle does know).
 *
 * - `close()` closes the file only once the statements prepared on the connection are
 *   garbage-collected (libsql has no way to finalize one), so the WAL file stays until then.
 *
 * Tested with libsql 0.5.29 (SQLite 3.45.1) on Node, Deno and Bun. Under `deno test` (Deno 2.9)
 * the process dies with SIGSEGV when the test runner tears down after a file that prepared a
 * libsql statement; `deno run` is not affected.
 *
 * ```ts ignore
 * import { openLibsql } from "honker-ts/adapters/libsql";
 *
 * const driver = await openLibsql("app.db");
 * console.log(driver.get("SELECT sqlite_version() AS v"));
 * driver.close();
 * ```
 *
 * @module
 */

import type { RunResult, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { SqliteError } from "../core/db/errors.ts";
import { bigintToNumber, handlePath } from "./_shared.ts";
import { openError, toSqliteError } from "./_sqlite_errors.ts";
import { StatementDriver } from "./_statement_driver.ts";
import {
  isResumable,
  type LibsqlDatabaseLike,
  prepare,
  type Prepared,
  reset,
  rows,
  toRow,
  toSqlValues,
} from "./_libsql_statement.ts";

export type { LibsqlDatabaseLike, LibsqlStatementLike } from "./_libsql_statement.ts";

/** Options for {@linkcode fromLibsql}. */
export interface FromLibsqlOptions {
  /** The path the handle was opened with; required unless it is `":memory:"`. */
  path?: string;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
  /** Whether `close()` also closes the handle. Defaults to true. */
  ownsHandle?: boolean;
}

/** Options for {@linkcode openLibsql}. */
export interface OpenLibsqlOptions {
  /** Milliseconds to wait for a lock before SQLITE_BUSY. Defaults to 5000. */
  busyTimeoutMs?: number;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
}

/** Read as a row, so a rowid beyond 2^53 is refused naming `lastInsertRowid`. */
const LAST_CHANGES = "SELECT changes() AS changes, last_insert_rowid() AS lastInsertRowid";

/** What libsql does its own way, for {@linkcode StatementDriver}. */
function libsqlDriver(db: LibsqlDatabaseLike, options: FromLibsqlOptions): SqliteDriver {
  const driver: StatementDriver<Prepared> = new StatementDriver<Prepared>({
    name: "libsql",
    path: handlePath(
      "libsql",
      options.path,
      () => db.memory === true ? ":memory:" : db.name || undefined,
      "libsql does not say which file a Database opened (its name is empty)",
    ),
    integersAsBigInt: true,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: options.ownsHandle,
    prepare: (sql) => prepare(db, sql),
    // libsql finalizes statements when they are garbage-collected or the db closes.
    finalize: () => {},
    run: ({ statement, reader }, values) => {
      let result: { changes: number; lastInsertRowid: number | bigint };
      if (reader) {
        statement.all(values);
        result = driver.get(LAST_CHANGES) as unknown as RunResult;
      } else result = statement.run(values);
      const rowid = result.lastInsertRowid;
      return {
        changes: result.changes,
        lastInsertRowid: typeof rowid === "bigint"
          ? bigintToNumber(rowid, "lastInsertRowid")
          : rowid,
      };
    },
    all: (prepared, values) => rows(prepared, values).map((cells) => toRow(prepared.names, cells)),
    get: (prepared, values) => {
      const cells = rows(prepared, values);
      return cells.length === 0 ? undefined : toRow(prepared.names, cells[0]);
    },
    values: (prepared, values) => {
      const cells = rows(prepared, values);
      for (const row of cells) toSqlValues(row);
      return cells as SqlValue[][];
    },
    exec: (sql) => void db.exec(sql),
    inTransaction: () => db.inTransaction,
    close: () => void db.close(),
    repair: (prepared, values, error) => {
      if (isResumable(error)) reset(db, prepared.statement, values);
    },
  });
  return driver;
}

/**
 * Wraps a libsql `Database` the caller already opened.
 *
 * libsql does not tell which file a `Database` opened, so pass the path it was opened with
 * (a TypeError says so when it is missing). Set `PRAGMA busy_timeout` on the handle if other
 * connections write to the same file.
 *
 * @param db The open handle.
 * @param options The path it was opened with, cache size, and whether `close()` closes it.
 * @returns A driver sharing the caller's connection.
 * @throws {TypeError} When `options.path` is missing and the handle is not `":memory:"`.
 *
 * @example Share the application's own connection
 * ```ts ignore
 * import Database from "libsql";
 * import { fromLibsql } from "honker-ts/adapters/libsql";
 *
 * const handle = new Database("app.db");
 * handle.exec("PRAGMA busy_timeout = 5000");
 * const driver = fromLibsql(handle, { path: "app.db", ownsHandle: false });
 * ```
 */
export function fromLibsql(db: LibsqlDatabaseLike, options: FromLibsqlOptions = {}): SqliteDriver {
  return libsqlDriver(db, options);
}

type LibsqlConstructor = new (path: string) => LibsqlDatabaseLike;

/** Loads libsql, which is an optional dependency: only its users install it. */
async function loadLibsql(): Promise<LibsqlConstructor> {
  try {
    const mod = await import("libsql" as string) as { default?: LibsqlConstructor };
    return mod.default ?? mod as unknown as LibsqlConstructor;
  } catch (error) {
    throw new Error(
      "Cannot open with libsql: the package is not installed " +
        `(npm install libsql): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * libsql reports a failed open as `ConnectionFailed("… <path>: 14")`, SQLite's result code last;
 * made SQLite's error here so that it reads like every other binding's.
 */
function connectionFailedAsSqlite(error: unknown): unknown {
  const code = error instanceof Error && /^ConnectionFailed\(.*: (\d+)"?\)$/.exec(error.message);
  if (!code) return error;
  const resultCode = Number(code[1]);
  const message = (resultCode & 0xff) === 14 ? "unable to open database file" : error.message;
  return new SqliteError(message, resultCode, { cause: error });
}

/**
 * Opens a database file with libsql, loading the package only when called.
 *
 * @param path The database file, created if missing.
 * @param options Busy timeout and cache size.
 * @returns A driver that owns its connection.
 * @throws {Error} When the libsql package is not installed.
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that is missing.
 *
 * @example Open a file
 * ```ts ignore
 * import { openLibsql } from "honker-ts/adapters/libsql";
 *
 * const driver = await openLibsql("app.db");
 * ```
 */
export async function openLibsql(
  path: string,
  options: OpenLibsqlOptions = {},
): Promise<SqliteDriver> {
  const Database = await loadLibsql();
  let handle: LibsqlDatabaseLike;
  try {
    handle = new Database(path);
  } catch (error) {
    throw await openError(path, connectionFailedAsSqlite(error));
  }
  try {
    handle.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  } catch (error) {
    handle.close();
    throw await openError(path, toSqliteError(error));
  }
  return fromLibsql(handle, {
    path,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: true,
  });
}
