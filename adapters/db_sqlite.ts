/**
 * Adapter for a `Database` from `jsr:@db/sqlite` (denodrivers/sqlite3) that the caller opened.
 *
 * What @db/sqlite does, read from its source (`src/database.ts`, `src/statement.ts`, `doc.md`),
 * and how this adapter meets the driver contract anyway:
 * - With the default `int64: false` it reads INTEGER columns through `sqlite3_column_int`, which
 *   silently truncates anything wider than 32 bits. With `int64` it returns a number, or a bigint
 *   beyond ±(2^53 − 1). This adapter calls `stmt.enableInt64()` on every statement it prepares
 *   (a per-statement override that leaves the caller's own statements alone) and turns bigints
 *   into numbers or a RangeError.
 * - With the default `parseJson: true` it `JSON.parse`s text carrying SQLite's JSON subtype, so
 *   `json_object()` would come back as an object; the adapter calls `stmt.disableParseJson()`.
 * - It binds `true`/`false` as 1/0, `undefined` as NULL, Dates and plain objects as text; the
 *   contract rejects them, so parameters go through `checkParams` first.
 * - A statement without placeholders ignores any arguments; the adapter refuses extra ones.
 * - `stmt.run()` returns `sqlite3_changes`; `db.lastInsertRowId` is `Number()` of the int64, so
 *   a rowid beyond 2^53 is already rounded: the adapter throws RangeError instead of returning it.
 * - `stmt.values()` reads rows as arrays through the same column reader as `all()`, so the
 *   per-statement `int64` and `parseJson` overrides hold for it too.
 * - `db.exec(sql)` without parameters is `sqlite3_exec`, so several statements may be given.
 * - `db.function(name, fn, { deterministic, varargs })` takes the arity from `fn.length`, passes
 *   integers beyond 2^53 as bigint, blobs as views into SQLite's memory, and turns an exception
 *   into an SQL error carrying its message.
 * - A failed statement throws a plain Error carrying only `sqlite3_errmsg` (SQLITE_MISUSE and a
 *   failed open throw its `SqliteError` with a numeric `code`), and stays un-reset until its next
 *   use, which keeps the implicit transaction open: later writes would not commit. The adapter
 *   finalizes a statement that failed and throws a SqliteError whose code it reads from SQLite's
 *   message.
 * - Text is read up to the first NUL byte, so a string holding `"\0"` comes back cut short; this
 *   cannot be repaired from outside @db/sqlite.
 *
 * ```ts ignore
 * import { Database } from "jsr:@db/sqlite";
 * import { fromDbSqlite } from "honker-ts/adapters/db-sqlite";
 *
 * const driver = fromDbSqlite(new Database("app.db"), { path: "app.db" });
 * ```
 *
 * @module
 */

import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import {
  argsToNumbers,
  bigintToNumber,
  checkParamCount,
  handlePath,
  rowToNumbers,
  valuesToNumbers,
  wrapSqlFunction,
} from "./_shared.ts";
import { toSqliteError } from "./_sqlite_errors.ts";
import { StatementDriver, type StatementOp } from "./_statement_driver.ts";

/** The subset of an @db/sqlite `Statement` this adapter calls. */
export interface DbSqliteStatementLike {
  /** Runs the statement and returns `sqlite3_changes`. */
  run(...params: SqlValue[]): number;
  /** Returns every row as an object. */
  all(...params: SqlValue[]): unknown[];
  /** Returns the first row as an object, or undefined. */
  get(...params: SqlValue[]): unknown;
  /** Returns every row as an array of column values. */
  values(...params: SqlValue[]): unknown[][];
  /** Frees the statement. */
  finalize(): void;
  /** How many placeholders the statement has. */
  readonly bindParameterCount?: number;
  /** Returns integers beyond 32 bits exactly (number, or bigint beyond 2^53) for this statement. */
  enableInt64?(): unknown;
  /** Returns JSON-subtyped text as text for this statement. */
  disableParseJson?(): unknown;
}

/** The subset of an @db/sqlite `Database` this adapter calls. */
export interface DbSqliteDatabaseLike {
  /** Compiles one statement. */
  prepare(sql: string): DbSqliteStatementLike;
  /** Runs SQL (several statements when there are no parameters); returns `sqlite3_changes`. */
  exec(sql: string, ...params: SqlValue[]): number;
  /** Rowid of the most recent successful INSERT. */
  readonly lastInsertRowId: number | bigint;
  /** Rows changed by the most recent statement. */
  readonly changes: number;
  /** Connection-wide default for reading 64-bit integers. */
  int64?: boolean;
  /** Connection-wide default for parsing JSON-subtyped text. */
  parseJson?: boolean;
  /** Whether SQLite is in autocommit mode (no transaction open). */
  readonly autocommit: boolean;
  /** The path the database was opened with. */
  readonly path?: string;
  /** Registers a scalar function. */
  function(
    name: string,
    fn: (...args: SqlValue[]) => SqlValue,
    options?: { deterministic?: boolean; varargs?: boolean },
  ): void;
  /** Closes the connection. */
  close(): void;
}

/** Options for {@linkcode fromDbSqlite}. */
export interface FromDbSqliteOptions {
  /** The path the handle was opened with. Defaults to the handle's `path`. */
  path?: string;
  /** Whether `close()` also closes the handle. Defaults to true. */
  ownsHandle?: boolean;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
}

/** Prepares `sql` reading integers exactly and JSON as text, whatever the connection's defaults. */
function prepare(db: DbSqliteDatabaseLike, sql: string): DbSqliteStatementLike {
  let statement: DbSqliteStatementLike;
  try {
    statement = db.prepare(sql);
  } catch (error) {
    throw toSqliteError(error, true);
  }
  if (typeof statement.enableInt64 === "function") statement.enableInt64();
  else if (db.int64 !== true) {
    statement.finalize();
    throw new Error(
      "Cannot prepare with @db/sqlite: this version has no Statement.enableInt64(); " +
        "open the Database with { int64: true } so integers wider than 32 bits are not truncated",
    );
  }
  if (typeof statement.disableParseJson === "function") statement.disableParseJson();
  else if (db.parseJson === true) {
    statement.finalize();
    throw new Error(
      "Cannot prepare with @db/sqlite: this version has no Statement.disableParseJson(); " +
        "open the Database with { parseJson: false } so JSON text stays text",
    );
  }
  return statement;
}

/** `use`, after refusing more parameters than the statement has (@db/sqlite ignores them). */
function counted<R>(
  use: StatementOp<DbSqliteStatementLike, R>,
): StatementOp<DbSqliteStatementLike, R> {
  return (statement, values) => {
    const count = statement.bindParameterCount;
    if (count !== undefined) checkParamCount(values, count);
    return use(statement, values);
  };
}

/** What @db/sqlite does its own way, for {@linkcode StatementDriver}. */
function dbSqliteDriver(
  db: DbSqliteDatabaseLike,
  options: FromDbSqliteOptions,
): StatementDriver<DbSqliteStatementLike> {
  return new StatementDriver<DbSqliteStatementLike>({
    name: "@db/sqlite",
    path: handlePath("@db/sqlite", options.path, () => db.path),
    integersAsBigInt: false,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: options.ownsHandle,
    // @db/sqlite leaves a failed statement un-reset, still holding the implicit transaction.
    discardFailed: true,
    sqliteError: (error) => toSqliteError(error, true),
    prepare: (sql) => prepare(db, sql),
    finalize: (statement) => statement.finalize(),
    run: counted((statement, values) => {
      const changes = statement.run(...values);
      const rowid = db.lastInsertRowId;
      return {
        changes,
        lastInsertRowid: typeof rowid === "number" && Number.isSafeInteger(rowid)
          ? rowid
          : bigintToNumber(BigInt(rowid), "lastInsertRowid"),
      };
    }),
    all: counted((statement, values) => {
      const rows = statement.all(...values) as Row[];
      for (const row of rows) rowToNumbers(row);
      return rows;
    }),
    values: counted((statement, values) => valuesToNumbers(statement.values(...values))),
    get: counted((statement, values) => {
      const row = statement.get(...values) as Row | undefined;
      // With `unsafeConcurrency`, @db/sqlite hands back one reused object for parameterless SQL.
      return row === undefined ? undefined : rowToNumbers({ ...row });
    }),
    exec: (sql) => void db.exec(sql),
    inTransaction: () => !db.autocommit,
    function: (name, fn, options) => {
      const wrapper = wrapSqlFunction(name, fn, (args) => {
        argsToNumbers(name, args);
        // A blob argument is a view into SQLite's memory, valid only during this call.
        for (let i = 0; i < args.length; i++) {
          const arg = args[i];
          if (arg instanceof Uint8Array) args[i] = arg.slice();
        }
      });
      db.function(name, wrapper, options);
    },
    close: () => db.close(),
  });
}

/**
 * Wraps an @db/sqlite `Database` the caller already opened.
 *
 * The caller's connection-wide `int64` and `parseJson` settings are left as they are: the
 * adapter overrides both on its own statements only. Set `PRAGMA busy_timeout` on the handle
 * if other connections write to the same file (@db/sqlite's default is to fail at once).
 *
 * @param db The open handle.
 * @param options The path it was opened with, cache size, and whether `close()` closes it.
 * @returns A driver sharing the caller's connection.
 *
 * @example Share the application's own connection
 * ```ts ignore
 * import { Database } from "jsr:@db/sqlite";
 * import { fromDbSqlite } from "honker-ts/adapters/db-sqlite";
 *
 * const db = new Database("app.db");
 * db.exec("PRAGMA busy_timeout = 5000");
 * const driver = fromDbSqlite(db, { path: "app.db", ownsHandle: false });
 * ```
 */
export function fromDbSqlite(
  db: DbSqliteDatabaseLike,
  options: FromDbSqliteOptions = {},
): SqliteDriver {
  return dbSqliteDriver(db, options);
}
