/**
 * Adapter for a `Database` of the npm package `better-sqlite3`.
 *
 * What better-sqlite3 does, and how this adapter meets the driver contract anyway:
 * - It binds every JS number as REAL (`json_object('n', ?)` with 5 gives `{"n":5.0}`); the
 *   adapter binds integer numbers as INTEGER by handing them over as bigints.
 * - It reads integers beyond 2^53 as silently rounded numbers; the adapter switches every
 *   statement it prepares to `safeIntegers(true)` (leaving the caller's own statements alone)
 *   and turns the bigints into numbers, or a RangeError when one would lose precision.
 * - It treats `?1`, `:name`, `@name` and `$name` as named parameters that need an object, so a
 *   numbered parameter with an array of values fails with "Too many parameter values were
 *   provided"; the driver contract has positional `?` only, and honker-ts's SQL keeps to it.
 * - `all()` and `get()` throw on a statement that returns no rows and `raw()` refuses one; the
 *   adapter runs such a statement and returns no rows, as the contract says.
 * - A query run from inside a SQL function throws "This database connection is busy executing
 *   a query", so the driver declares `reentrantFunctions: false` and honker's SQL functions
 *   (which run SQL) are not registered on it, as on bun:sqlite.
 * - Its errors are `SqliteError`s whose `code` names the extended result code
 *   (`"SQLITE_CONSTRAINT_UNIQUE"`); the adapter throws honker-ts's {@linkcode SqliteError} with
 *   the number.
 * - Its `Database.name` is the path it was opened with, so `fromBetterSqlite3(handle)` needs no
 *   `{ path }`.
 *
 * Tested with better-sqlite3 13.2.0 (prebuilt binaries, N-API) on Node, Deno and Bun, and
 * with better-sqlite3 12.11.1 (built from source, V8's addon API) on Node: Deno loads only N-API
 * addons and Bun refuses better-sqlite3 before 13, so 12 runs on Node only.
 *
 * ```ts ignore
 * import { openBetterSqlite3 } from "honker-ts/adapters/better-sqlite3";
 *
 * const driver = await openBetterSqlite3("app.db");
 * console.log(driver.get("SELECT sqlite_version() AS v"));
 * driver.close();
 * ```
 *
 * @module
 */

import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { SqliteError } from "../core/db/errors.ts";
import {
  argsToNumbers,
  bigintToNumber,
  handlePath,
  rowToNumbers,
  valuesToNumbers,
  wrapSqlFunction,
} from "./_shared.ts";
import { openError } from "./_sqlite_errors.ts";
import { StatementDriver, type StatementOp } from "./_statement_driver.ts";

/** The subset of a better-sqlite3 `Statement` this adapter calls. */
export interface BetterSqlite3StatementLike {
  /** Runs the statement and reports changes. */
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  /** Returns every row. */
  all(...params: SqlValue[]): unknown[];
  /** Returns the first row or undefined. */
  get(...params: SqlValue[]): unknown;
  /** Makes `all()` and `get()` return arrays of column values. */
  raw(enabled?: boolean): unknown;
  /** Makes the statement read integers as bigint. */
  safeIntegers(enabled?: boolean): unknown;
  /** Whether the statement returns rows. */
  readonly reader: boolean;
}

/** The subset of a better-sqlite3 `Database` this adapter calls. */
export interface BetterSqlite3DatabaseLike {
  /** Compiles one statement. */
  prepare(sql: string): BetterSqlite3StatementLike;
  /** Runs SQL without parameters. */
  exec(sql: string): unknown;
  /** Whether a transaction is open. */
  readonly inTransaction: boolean;
  /** The path the database was opened with. */
  readonly name?: string;
  /** Closes the connection. */
  close(): unknown;
  /** Registers a scalar function. */
  function(
    name: string,
    options: { deterministic?: boolean; varargs?: boolean; safeIntegers?: boolean },
    fn: (...args: SqlValue[]) => SqlValue,
  ): unknown;
}

/** Options for {@linkcode fromBetterSqlite3}. */
export interface FromBetterSqlite3Options {
  /** The path the handle was opened with. Defaults to the handle's `name`. */
  path?: string;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
  /** Whether `close()` also closes the handle. Defaults to true. */
  ownsHandle?: boolean;
}

/** Options for {@linkcode openBetterSqlite3}. */
export interface OpenBetterSqlite3Options {
  /** Milliseconds to wait for a lock before SQLITE_BUSY. Defaults to 5000. */
  busyTimeoutMs?: number;
  /** Open read-only. */
  readOnly?: boolean;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
  /**
   * The `Database` class to open with, when it is not the one `import("better-sqlite3")`
   * finds: another copy or version of the package, or a fork with its API. Defaults to that one.
   */
  Database?: BetterSqlite3Class;
}

/** The `Database` class of better-sqlite3, as {@linkcode openBetterSqlite3} constructs it. */
export type BetterSqlite3Class = new (
  path: string,
  options?: { readonly?: boolean; timeout?: number },
) => BetterSqlite3DatabaseLike;

/** A statement this adapter prepared, with whether it returns rows (asked once). */
interface Prepared {
  readonly statement: BetterSqlite3StatementLike;
  readonly reader: boolean;
}

/** Runs `read` on a statement that returns rows; runs any other one and returns `none()`. */
function query<R>(
  none: () => R,
  read: StatementOp<BetterSqlite3StatementLike, R>,
): StatementOp<Prepared, R> {
  return ({ statement, reader }, values) => {
    if (reader) return read(statement, values);
    statement.run(...values);
    return none();
  };
}

/** What better-sqlite3 does its own way, for {@linkcode StatementDriver}. */
function betterSqlite3Driver(
  db: BetterSqlite3DatabaseLike,
  options: FromBetterSqlite3Options,
): StatementDriver<Prepared> {
  const prepare = (sql: string): Prepared => {
    const statement = db.prepare(sql);
    statement.safeIntegers(true);
    return { statement, reader: statement.reader };
  };
  return new StatementDriver<Prepared>({
    name: "better-sqlite3",
    path: handlePath("better-sqlite3", options.path, () => db.name),
    integersAsBigInt: true,
    reentrantFunctions: false,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: options.ownsHandle,
    prepare,
    // Statements switched to `raw()` are cached apart, as the mode sticks to a statement.
    prepareArrays: (sql) => {
      const prepared = prepare(sql);
      if (prepared.reader) prepared.statement.raw(true);
      return prepared;
    },
    // better-sqlite3 finalizes statements when they are garbage-collected or the db closes.
    finalize: () => {},
    run: ({ statement }, values) => {
      const { changes, lastInsertRowid: rowid } = statement.run(...values);
      return {
        changes,
        lastInsertRowid: typeof rowid === "bigint"
          ? bigintToNumber(rowid, "lastInsertRowid")
          : rowid,
      };
    },
    all: query(() => [], (statement, values) => {
      const rows = statement.all(...values) as Row[];
      for (const row of rows) rowToNumbers(row);
      return rows;
    }),
    get: query(() => undefined, (statement, values) => {
      const row = statement.get(...values) as Row | undefined;
      return row === undefined ? undefined : rowToNumbers(row);
    }),
    values: query(
      () => [],
      (statement, values) => valuesToNumbers(statement.all(...values) as unknown[][]),
    ),
    exec: (sql) => void db.exec(sql),
    inTransaction: () => db.inTransaction,
    function: (name, fn, options) => {
      const wrapper = wrapSqlFunction(name, fn, (args) => argsToNumbers(name, args));
      // Arguments beyond 2^53 arrive exactly, to be refused rather than rounded.
      db.function(name, { ...options, safeIntegers: true }, wrapper);
    },
    close: () => void db.close(),
  });
}

/**
 * Wraps a better-sqlite3 `Database` the caller already opened.
 *
 * The driver's path is the handle's `name` (the path it was opened with) unless `options.path`
 * says otherwise. Give the handle a busy timeout (better-sqlite3's default is 5 s) if other
 * connections write to the same file.
 *
 * @param db The open handle.
 * @param options The path it was opened with, cache size, and whether `close()` closes it.
 * @returns A driver sharing the caller's connection.
 *
 * @example Share the application's own connection
 * ```ts ignore
 * import Database from "better-sqlite3";
 * import { fromBetterSqlite3 } from "honker-ts/adapters/better-sqlite3";
 *
 * const handle = new Database("app.db");
 * const driver = fromBetterSqlite3(handle, { ownsHandle: false });
 * ```
 */
export function fromBetterSqlite3(
  db: BetterSqlite3DatabaseLike,
  options: FromBetterSqlite3Options = {},
): SqliteDriver {
  return betterSqlite3Driver(db, options);
}

/** Loads better-sqlite3, which is an optional dependency: only its users install it. */
async function loadBetterSqlite3(): Promise<BetterSqlite3Class> {
  try {
    const mod = await import("better-sqlite3" as string) as {
      default?: BetterSqlite3Class;
    };
    return mod.default ?? mod as unknown as BetterSqlite3Class;
  } catch (error) {
    throw new Error(
      "Cannot open with better-sqlite3: the package is not installed " +
        `(npm install better-sqlite3): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Opens a database file with better-sqlite3, loading the package only when called.
 *
 * @param path The database file, created if missing.
 * @param options Busy timeout, read-only mode, cache size, and the `Database` class to use.
 * @returns A driver that owns its connection.
 * @throws {TypeError} When `options.Database` is given and is not a class.
 * @throws {Error} When the better-sqlite3 package is not installed (and no class is given).
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that is missing.
 *
 * @example Open a file
 * ```ts ignore
 * import { openBetterSqlite3 } from "honker-ts/adapters/better-sqlite3";
 *
 * const driver = await openBetterSqlite3("app.db", { busyTimeoutMs: 5000 });
 * ```
 */
export async function openBetterSqlite3(
  path: string,
  options: OpenBetterSqlite3Options = {},
): Promise<SqliteDriver> {
  if (options.Database !== undefined && typeof options.Database !== "function") {
    throw new TypeError(
      `Cannot open with better-sqlite3: options.Database is not a class (got ${typeof options
        .Database})`,
    );
  }
  const Database = options.Database ?? await loadBetterSqlite3();
  let handle: BetterSqlite3DatabaseLike;
  try {
    handle = new Database(path, {
      readonly: options.readOnly ?? false,
      timeout: options.busyTimeoutMs ?? 5000,
    });
  } catch (error) {
    throw await openError(path, missingDirectoryAsSqlite(error));
  }
  return fromBetterSqlite3(handle, {
    path,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: true,
  });
}

/**
 * better-sqlite3 checks the directory itself before SQLite runs, and throws a TypeError for a
 * missing one; it is SQLite's SQLITE_CANTOPEN for every other binding.
 */
function missingDirectoryAsSqlite(error: unknown): unknown {
  if (error instanceof TypeError && /directory does not exist/.test(error.message)) {
    return new SqliteError("unable to open database file", 14, { cause: error });
  }
  return error;
}
