/**
 * The synchronous SQLite driver contract every adapter implements.
 *
 * honker-ts talks to SQLite through this small interface only, so the core never touches a
 * native handle. The rules written on each member are enforced for every adapter by the
 * conformance suite in `testing/driver_conformance.ts`.
 *
 * @module
 */

/** A value SQLite can store and honker-ts can bind: NULL, INTEGER/REAL, TEXT or BLOB. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** A result row keyed by column name. It may have a null prototype. */
export type Row = Record<string, SqlValue>;

/** What a write statement reports. */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement (`sqlite3_changes`). */
  changes: number;
  /** Rowid of the most recent successful INSERT on this connection. */
  lastInsertRowid: number;
}

/** Options for registering a scalar SQL function. */
export interface SqlFunctionOptions {
  /** The function always returns the same result for the same arguments. */
  deterministic?: boolean;
  /** The function takes any number of arguments; otherwise `fn.length` fixes the arity. */
  varargs?: boolean;
}

/** A scalar SQL function implemented in TypeScript. Throwing raises an SQL error. */
export type SqlFunction = (...args: SqlValue[]) => SqlValue;

/**
 * A synchronous connection to one SQLite database.
 *
 * Contract, checked by the conformance suite:
 * - parameters are positional: every statement honker-ts sends has plain `?` placeholders only
 *   (never `?NNN`, `:name`, `@name` or `$name`) and comes with exactly one value per `?`, in
 *   order, so an adapter needs nothing else (better-sqlite3, for one, cannot bind `?1` from an
 *   array); the conformance suite prepares every statement of the core that way;
 * - JS numbers that are integers bind as SQLite INTEGER, other numbers as REAL, bigints as
 *   INTEGER (a bigint outside the signed 64-bit range is a RangeError);
 * - booleans, `undefined` and other non-SqlValue parameters are rejected with a TypeError;
 * - integers come back as JS numbers; an integer outside ±(2^53 − 1) is a RangeError, never a
 *   silently rounded number;
 * - prepared statements are cached by SQL text, so repeating a statement costs no prepare, but
 *   a statement still executing is never handed out again: the same SQL run from inside a SQL
 *   function gets a statement of its own;
 * - what SQLite reports is thrown as a `SqliteError` (core/db/errors.ts) carrying SQLite's message
 *   and result code; a SQL function's own exception, and the TypeError or RangeError of a
 *   refused parameter, are thrown as they are;
 * - after `close()` every call except `close()` throws.
 *
 * @example Run a statement through any adapter
 * ```ts ignore
 * import { openNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * const driver = await openNodeSqlite("app.db");
 * driver.exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)");
 * const { lastInsertRowid } = driver.run("INSERT INTO t (x) VALUES (?)", [42]);
 * console.log(driver.get("SELECT x FROM t WHERE rowid = ?", [lastInsertRowid]));
 * driver.close();
 * ```
 */
export interface SqliteDriver {
  /** A human-readable adapter id, such as `"node:sqlite"`, used in errors and benchmarks. */
  readonly name: string;
  /** The database file path as opened, or `":memory:"`. */
  readonly path: string;
  /**
   * False when a registered SQL function must not run statements on this connection (bun:sqlite
   * refuses any query while another is executing). honker's SQL functions, which run SQL, are
   * then not registered. Absent means true.
   */
  readonly reentrantFunctions?: boolean;
  /** Runs one or more statements that take no parameters and return no rows. */
  exec(sql: string): void;
  /** Runs one statement with one value per `?` and reports the changes it made. */
  run(sql: string, params?: readonly SqlValue[]): RunResult;
  /** Runs one statement and returns every row. */
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[];
  /** Runs one statement and returns its first row, or `undefined` when there is none. */
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined;
  /**
   * Runs one statement and returns every row as an array of its column values in SELECT order,
   * by the same value rules as `all()`. Skipping an object per row roughly doubles read speed
   * on hot paths such as a stream replay. Optional: an adapter whose binding cannot return
   * arrays cheaply leaves it out, and the core falls back to `all()`.
   */
  values?(sql: string, params?: readonly SqlValue[]): SqlValue[][];
  /**
   * Whether a transaction is open on this connection (SQLite is not in autocommit mode), opened
   * by honker-ts or by anyone else sharing the handle: an ORM's `BEGIN`, a savepoint. honker-ts
   * asks before every write it makes on its own, so that it never folds such a write into a
   * transaction the application may still roll back.
   */
  inTransaction(): boolean;
  /** Closes the connection and finalizes cached statements. A second call does nothing. */
  close(): void;
  /**
   * Registers a scalar SQL function on this connection, callable from SQL and triggers.
   * Integer results are returned to SQLite as INTEGER. Optional: a binding that cannot
   * register functions leaves it out.
   */
  function?(name: string, fn: SqlFunction, options?: SqlFunctionOptions): void;
}
