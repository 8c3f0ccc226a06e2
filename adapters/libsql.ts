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

import type { Row, RunResult, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { SqliteError } from "../core/db/errors.ts";
import {
  bigintToNumber,
  checkParams,
  closedError,
  handlePath,
  openError,
  toSqliteError,
} from "./_shared.ts";
import {
  STATEMENT_CACHE_SIZE_DEFAULT,
  StatementCache,
  type StatementLease,
} from "./_statement_cache.ts";

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

/** A statement this adapter prepared, with what it learnt once about it. */
interface Prepared {
  readonly statement: LibsqlStatementLike;
  /** Whether it returns rows (then it is in raw mode). */
  readonly reader: boolean;
  /** Its column names, in order. */
  readonly names: readonly string[];
}

const LAST_CHANGES = "SELECT changes() AS changes, last_insert_rowid() AS rowid";

/** Whether libsql's error is SQLITE_BUSY or SQLITE_LOCKED, which leave a statement resumable. */
function isResumable(error: unknown): boolean {
  const code = (error as { rawCode?: unknown })?.rawCode;
  return typeof code === "number" && ((code & 0xff) === 5 || (code & 0xff) === 6);
}

/** Rewrites, in place, the cells of a row read as an array by the contract's value rules. */
function toSqlValues(cells: unknown[]): SqlValue[] {
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (typeof cell === "bigint") cells[i] = bigintToNumber(cell, i + 1);
    else if (cell instanceof ArrayBuffer) cells[i] = new Uint8Array(cell);
  }
  return cells as SqlValue[];
}

/** A row object from a row read as an array. */
function toRow(names: readonly string[], cells: unknown[]): Row {
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

class LibsqlDriver implements SqliteDriver {
  readonly name: string = "libsql";
  readonly path: string;
  #db: LibsqlDatabaseLike;
  #cache: StatementCache<Prepared>;
  #ownsHandle: boolean;
  #closed = false;
  #prepare = (sql: string): Prepared => {
    const statement = this.#db.prepare(sql);
    statement.safeIntegers(true);
    const reader = statement.reader;
    if (!reader) return { statement, reader, names: [] };
    statement.raw(true);
    return { statement, reader, names: statement.columns().map((column) => column.name) };
  };

  constructor(db: LibsqlDatabaseLike, options: FromLibsqlOptions) {
    this.#db = db;
    this.path = handlePath(
      "libsql",
      options.path,
      () => db.memory === true ? ":memory:" : db.name || undefined,
      "libsql does not say which file a Database opened (its name is empty)",
    );
    this.#ownsHandle = options.ownsHandle ?? true;
    // libsql finalizes statements when they are garbage-collected or the db closes.
    this.#cache = new StatementCache(
      options.statementCacheSize ?? STATEMENT_CACHE_SIZE_DEFAULT,
      () => {},
    );
  }

  /** Runs `use` on the statement for `sql`, reserved for this one execution. */
  #execute<R>(
    sql: string,
    params: readonly SqlValue[] | undefined,
    action: string,
    use: (prepared: Prepared, values: readonly SqlValue[]) => R,
  ): R {
    if (this.#closed) throw closedError(this.name, action);
    const values = checkParams(params, true);
    let lease: StatementLease<Prepared> | undefined;
    try {
      lease = this.#cache.acquire(sql, this.#prepare);
      return use(lease.statement, values);
    } catch (error) {
      if (lease !== undefined && isResumable(error)) this.#reset(lease.statement.statement, values);
      throw toSqliteError(error);
    } finally {
      if (lease !== undefined) this.#cache.release(lease);
    }
  }

  /**
   * Resets a statement that SQLITE_BUSY or SQLITE_LOCKED left resumable, before anything else
   * runs on the connection. libsql resets a statement only when it runs it again, and until then
   * the stalled write counts as running: the connection's later writes in autocommit mode stay
   * uncommitted (holding SQLite's write lock), and the reset rolls all of them back, after
   * `run()` reported them done. Running it again with `PRAGMA query_only` set resets it and
   * stops it at its first write, so nothing is written twice.
   */
  #reset(statement: LibsqlStatementLike, values: readonly SqlValue[]): void {
    const read = this.#db.prepare("PRAGMA query_only");
    read.raw(true);
    const [[queryOnly]] = read.all([]) as unknown[][];
    this.#db.exec("PRAGMA query_only = 1");
    try {
      statement.run(values);
    } catch {
      // SQLITE_READONLY at its first write: the reset is what was wanted.
    } finally {
      this.#db.exec(`PRAGMA query_only = ${Number(queryOnly) ? 1 : 0}`);
    }
  }

  /** Reads every row of `sql` as an array of cells; none for a statement that returns none. */
  #rows(sql: string, params: readonly SqlValue[] | undefined): [readonly string[], unknown[][]] {
    return this.#execute(sql, params, "query", ({ statement, reader, names }, values) => {
      if (reader) return [names, statement.all(values) as unknown[][]];
      statement.run(values);
      return [names, []];
    });
  }

  exec(sql: string): void {
    if (this.#closed) throw closedError(this.name, "exec");
    try {
      this.#db.exec(sql);
    } catch (error) {
      throw toSqliteError(error);
    }
  }

  run(sql: string, params?: readonly SqlValue[]): RunResult {
    const result = this.#execute(sql, params, "run", ({ statement, reader }, values) => {
      if (!reader) return statement.run(values);
      statement.all(values);
      const [[changes, rowid]] = this.#execute(LAST_CHANGES, [], "run", (last, none) => {
        return last.statement.all(none) as [[bigint, bigint]];
      });
      return { changes: Number(changes), lastInsertRowid: rowid };
    });
    const rowid = result.lastInsertRowid;
    return {
      changes: result.changes,
      lastInsertRowid: typeof rowid === "bigint" ? bigintToNumber(rowid, "lastInsertRowid") : rowid,
    };
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
    const [names, rows] = this.#rows(sql, params);
    return rows.map((cells) => toRow(names, cells) as T);
  }

  values(sql: string, params?: readonly SqlValue[]): SqlValue[][] {
    const [, rows] = this.#rows(sql, params);
    for (const cells of rows) toSqlValues(cells);
    return rows as SqlValue[][];
  }

  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
    const [names, rows] = this.#rows(sql, params);
    return rows.length === 0 ? undefined : toRow(names, rows[0]) as T;
  }

  inTransaction(): boolean {
    if (this.#closed) throw closedError(this.name, "check for a transaction");
    return this.#db.inTransaction;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    if (this.#ownsHandle) this.#db.close();
  }
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
  return new LibsqlDriver(db, options);
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
