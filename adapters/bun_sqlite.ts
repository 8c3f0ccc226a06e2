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

import type {
  Row,
  RunResult,
  SqlFunction,
  SqlFunctionOptions,
  SqliteDriver,
  SqlValue,
} from "../core/db/driver.ts";
import {
  bigintToNumber,
  checkParams,
  closedError,
  handlePath,
  openError,
  rowToNumbers,
  toSqliteError,
  valuesToNumbers,
  wrapSqlFunction,
} from "./_shared.ts";
import {
  STATEMENT_CACHE_SIZE_DEFAULT,
  StatementCache,
  type StatementLease,
} from "./_statement_cache.ts";

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

class BunSqliteDriver implements SqliteDriver {
  readonly name: string = "bun:sqlite";
  readonly path: string;
  readonly reentrantFunctions: boolean = false;
  #db: BunSqliteDatabaseLike;
  #cache: StatementCache<BunSqliteStatementLike>;
  #ownsHandle: boolean;
  #closed = false;
  #prepare = (sql: string): BunSqliteStatementLike => {
    const statement = this.#db.prepare(sql);
    statement.safeIntegers(true);
    return statement;
  };

  constructor(db: BunSqliteDatabaseLike, options: FromBunSqliteOptions) {
    this.#db = db;
    this.path = handlePath("bun:sqlite", options.path, () => db.filename);
    this.#ownsHandle = options.ownsHandle ?? true;
    this.#cache = new StatementCache(
      options.statementCacheSize ?? STATEMENT_CACHE_SIZE_DEFAULT,
      (statement) => statement.finalize(),
    );
  }

  /** Runs `use` on the statement for `sql`, reserved for this one execution. */
  #execute<R>(
    sql: string,
    params: readonly SqlValue[] | undefined,
    action: string,
    use: (statement: BunSqliteStatementLike, values: readonly SqlValue[]) => R,
  ): R {
    if (this.#closed) throw closedError(this.name, action);
    const values = checkParams(params, false);
    let lease: StatementLease<BunSqliteStatementLike> | undefined;
    try {
      lease = this.#cache.acquire(sql, this.#prepare);
      return use(lease.statement, values);
    } catch (error) {
      throw toSqliteError(error);
    } finally {
      if (lease !== undefined) this.#cache.release(lease);
    }
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
    const result = this.#execute(
      sql,
      params,
      "run",
      (statement, values) => statement.run(...values),
    );
    return {
      changes: result.changes,
      lastInsertRowid: typeof result.lastInsertRowid === "bigint"
        ? bigintToNumber(result.lastInsertRowid, "lastInsertRowid")
        : result.lastInsertRowid,
    };
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
    const rows = this.#execute(sql, params, "query", (statement, values) => {
      return statement.all(...values) as T[];
    });
    for (const row of rows) rowToNumbers(row);
    return rows;
  }

  values(sql: string, params?: readonly SqlValue[]): SqlValue[][] {
    return valuesToNumbers(
      this.#execute(sql, params, "query", (statement, values) => statement.values(...values)),
    );
  }

  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
    const row = this.#execute(sql, params, "query", (statement, values) => {
      return statement.get(...values) as T | null;
    });
    return row === null ? undefined : rowToNumbers(row);
  }

  function(name: string, fn: SqlFunction, options: SqlFunctionOptions = {}): void {
    if (this.#closed) throw closedError(this.name, `register function ${name}()`);
    if (typeof this.#db.function !== "function") {
      throw new TypeError(`Cannot register function ${name}(): this bun:sqlite has no function()`);
    }
    try {
      this.#db.function(
        name,
        { deterministic: options.deterministic ?? false, varargs: options.varargs ?? false },
        wrapSqlFunction(name, fn),
      );
    } catch (error) {
      throw toSqliteError(error);
    }
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
  return new BunSqliteDriver(db, options);
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
