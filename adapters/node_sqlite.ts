/**
 * Adapter for `node:sqlite` `DatabaseSync`, available on Node 22.13+, Deno and Bun.
 *
 * node:sqlite binds every JS number as REAL; this adapter binds integer numbers as INTEGER so
 * that `json_object('n', ?)` gives `{"n":5}` and honker's integer columns see integers. It also
 * caches prepared statements by SQL text (Node 22 has no built-in cache). When the binding has
 * `StatementSync.setReturnArrays()`, the driver offers `values()`, which reads rows as arrays
 * through a second cache of statements switched to that mode.
 *
 * ```ts ignore
 * import { openNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * const driver = await openNodeSqlite("app.db");
 * console.log(driver.get("SELECT sqlite_version() AS v"));
 * driver.close();
 * ```
 *
 * @module
 */

import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { handlePath } from "./_shared.ts";
import { openError } from "./_sqlite_errors.ts";
import { registerOn, StatementDriver } from "./_statement_driver.ts";

/** The subset of a node:sqlite `StatementSync` this adapter calls. */
export interface NodeSqliteStatementLike {
  /** Runs the statement and reports changes. */
  run(...params: SqlValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  /** Returns every row. */
  all(...params: SqlValue[]): unknown[];
  /** Returns the first row or undefined. */
  get(...params: SqlValue[]): unknown;
  /** Makes `all()` and `get()` return arrays of column values (absent from older node:sqlite). */
  setReturnArrays?(enabled: boolean): void;
}

/** The subset of a node:sqlite `DatabaseSync` this adapter calls. */
export interface NodeSqliteDatabaseLike {
  /** Compiles one statement. */
  prepare(sql: string): NodeSqliteStatementLike;
  /** Runs SQL without parameters. */
  exec(sql: string): void;
  /** Whether a transaction is open (Node 22.16+, Deno, Bun). */
  readonly isTransaction?: boolean;
  /** The file of the main database, or null when it is in memory (Node 22.16+, Deno, Bun). */
  location?(): string | null;
  /** Closes the connection. */
  close(): void;
  /** Registers a scalar function (Node 22.13+, Deno, Bun). */
  function?(
    name: string,
    options: { deterministic?: boolean; varargs?: boolean },
    fn: (...args: SqlValue[]) => SqlValue,
  ): void;
}

/** Options for {@linkcode fromNodeSqlite}. */
export interface FromNodeSqliteOptions {
  /**
   * The path the handle was opened with. Defaults to the handle's `location()`; needed only
   * with a node:sqlite that has none.
   */
  path?: string;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
  /** Whether `close()` also closes the handle. Defaults to true. */
  ownsHandle?: boolean;
}

/** Options for {@linkcode openNodeSqlite}. */
export interface OpenNodeSqliteOptions {
  /** Milliseconds to wait for a lock before SQLITE_BUSY. Defaults to 5000. */
  busyTimeoutMs?: number;
  /** Allow `loadExtension()` on the native handle (needed to load honker's extension). */
  allowExtension?: boolean;
  /** Open read-only. */
  readOnly?: boolean;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
}

/** Whether statements of `db` can return rows as arrays; false when it cannot even prepare. */
function hasReturnArrays(db: NodeSqliteDatabaseLike): boolean {
  try {
    return typeof db.prepare("SELECT 1").setReturnArrays === "function";
  } catch {
    return false;
  }
}

/** What node:sqlite does its own way, for {@linkcode StatementDriver}. */
function nodeSqliteDriver(
  db: NodeSqliteDatabaseLike,
  options: FromNodeSqliteOptions,
): StatementDriver<NodeSqliteStatementLike> {
  const path = handlePath("node:sqlite", options.path, () => {
    if (typeof db.location !== "function") return undefined;
    return db.location() ?? ":memory:";
  }, "this node:sqlite has no DatabaseSync.location() (Node 22.16 or newer has it)");
  return new StatementDriver<NodeSqliteStatementLike>({
    name: "node:sqlite",
    path,
    integersAsBigInt: true,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: options.ownsHandle,
    prepare: (sql) => db.prepare(sql),
    // Statements switched to arrays are cached apart, as the mode sticks to a statement.
    prepareArrays: (sql) => {
      const statement = db.prepare(sql);
      statement.setReturnArrays!(true);
      return statement;
    },
    // node:sqlite finalizes statements when they are garbage-collected or the db closes.
    finalize: () => {},
    run: (statement, values) => {
      const result = statement.run(...values);
      return { changes: Number(result.changes), lastInsertRowid: Number(result.lastInsertRowid) };
    },
    all: (statement, values) => statement.all(...values) as Row[],
    get: (statement, values) => statement.get(...values) as Row | undefined,
    values: hasReturnArrays(db)
      ? (statement, values) => statement.all(...values) as SqlValue[][]
      : undefined,
    exec: (sql) => db.exec(sql),
    inTransaction: () => {
      const open = db.isTransaction;
      if (open === undefined) {
        throw new TypeError(
          "Cannot check for a transaction: this node:sqlite has no DatabaseSync.isTransaction " +
            "(Node 22.16 or newer has it)",
        );
      }
      return open;
    },
    function: registerOn("node:sqlite", db),
    close: () => db.close(),
  });
}

/**
 * Wraps a node:sqlite `DatabaseSync` the caller already opened.
 *
 * The driver's path is the handle's `location()` (the file it opened) unless `options.path`
 * says otherwise.
 *
 * @param db The open handle.
 * @param options The path it was opened with, cache size, and whether `close()` closes it.
 * @returns A driver sharing the caller's connection.
 * @throws {TypeError} When the handle has no `location()` and `options.path` is missing.
 *
 * @example Share the application's own connection
 * ```ts ignore
 * import { DatabaseSync } from "node:sqlite";
 * import { fromNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * const handle = new DatabaseSync("app.db");
 * const driver = fromNodeSqlite(handle, { ownsHandle: false });
 * ```
 */
export function fromNodeSqlite(
  db: NodeSqliteDatabaseLike,
  options: FromNodeSqliteOptions = {},
): SqliteDriver {
  return nodeSqliteDriver(db, options);
}

/**
 * Opens a database file with node:sqlite, loading the module only when called.
 *
 * @param path The database file, created if missing.
 * @param options Busy timeout, extension loading, read-only mode and cache size.
 * @returns A driver that owns its connection.
 * @throws {Error} When node:sqlite is not available.
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that is missing.
 *
 * @example Open a file
 * ```ts ignore
 * import { openNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * const driver = await openNodeSqlite("app.db", { busyTimeoutMs: 5000 });
 * ```
 */
export async function openNodeSqlite(
  path: string,
  options: OpenNodeSqliteOptions = {},
): Promise<SqliteDriver> {
  let mod: { DatabaseSync: new (path: string, options?: object) => NodeSqliteDatabaseLike };
  try {
    mod = await import("node:sqlite") as unknown as typeof mod;
  } catch (error) {
    throw new Error("Cannot open with node:sqlite: this runtime has no node:sqlite module", {
      cause: error,
    });
  }
  let handle: NodeSqliteDatabaseLike;
  try {
    handle = new mod.DatabaseSync(path, {
      timeout: options.busyTimeoutMs ?? 5000,
      allowExtension: options.allowExtension ?? false,
      readOnly: options.readOnly ?? false,
    });
  } catch (error) {
    throw await openError(path, error);
  }
  return fromNodeSqlite(handle, {
    path,
    statementCacheSize: options.statementCacheSize,
    ownsHandle: true,
  });
}
