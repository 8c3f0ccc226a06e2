/**
 * The driver over our FFI binding to the system libsqlite3, shared by the Deno FFI and `bun:ffi`
 * adapters (`deno_ffi.ts`, `bun_ffi.ts`). Private to `adapters/`.
 *
 * It calls the C API directly: statements are prepared once per SQL text and reused, integer
 * numbers bind as INTEGER, text is bound and read with explicit byte lengths (so strings with
 * embedded NUL round-trip) and blobs are copied out of SQLite's memory.
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
  checkParamCount,
  checkParams,
  closedError,
  openError,
  sqlFunctionResult,
} from "./_shared.ts";
import { STATEMENT_CACHE_SIZE_DEFAULT, StatementCache } from "./_statement_cache.ts";
import type { FfiPlatform } from "../platform/ffi.ts";
import { SQLITE } from "./_ffi_symbols.ts";
import { FfiConnection, type StatementHandle } from "./_ffi_connection.ts";

/** Options for opening a database through an FFI adapter (`openDenoFfi`, `openBunFfi`). */
export interface OpenFfiOptions {
  /** The libsqlite3 file to load; else `HONKER_SQLITE_PATH`, else the usual system locations. */
  libraryPath?: string;
  /** Milliseconds to wait for a lock before SQLITE_BUSY. Defaults to 5000. */
  busyTimeoutMs?: number;
  /** Open read-only. */
  readOnly?: boolean;
  /** Prepared statements kept per connection. Defaults to 256. */
  statementCacheSize?: number;
}

interface CachedStatement {
  handle: StatementHandle;
  parameterCount: number;
}

/** A SqliteDriver over one FFI connection; `name` says which runtime's FFI. */
export class FfiDriver implements SqliteDriver {
  readonly name: string;
  readonly path: string;
  #conn: FfiConnection;
  #cache: StatementCache<CachedStatement>;
  #closed = false;
  #prepare = (sql: string): CachedStatement => {
    const handle = this.#conn.prepare(sql);
    return { handle, parameterCount: this.#conn.lib.sqlite3_bind_parameter_count(handle) };
  };

  constructor(name: string, path: string, options: OpenFfiOptions, ffi: FfiPlatform) {
    this.name = name;
    this.path = path;
    this.#conn = new FfiConnection(path, options, ffi);
    const lib = this.#conn.lib;
    this.#cache = new StatementCache(
      options.statementCacheSize ?? STATEMENT_CACHE_SIZE_DEFAULT,
      (statement) => lib.sqlite3_finalize(statement.handle),
    );
  }

  /**
   * Runs `use` on the statement for `sql` with `params` bound, reserved for this one execution,
   * then resets it and clears its bindings.
   */
  #execute<R>(
    sql: string,
    params: readonly SqlValue[] | undefined,
    action: string,
    use: (handle: StatementHandle) => R,
  ): R {
    if (this.#closed) throw closedError(this.name, action);
    const values = checkParams(params, false);
    const conn = this.#conn;
    const lease = this.#cache.acquire(sql, this.#prepare);
    const { handle, parameterCount } = lease.statement;
    try {
      checkParamCount(values, parameterCount);
      for (let i = 0; i < values.length; i++) {
        if (conn.bind(handle, i + 1, values[i]) !== SQLITE.OK) throw conn.sqliteError();
      }
      return use(handle);
    } finally {
      conn.lib.sqlite3_reset(handle);
      conn.lib.sqlite3_clear_bindings(handle);
      this.#cache.release(lease);
    }
  }

  #row(handle: StatementHandle, names: string[]): Row {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = this.#conn.column(handle, i);
      const converted = typeof value === "bigint" ? bigintToNumber(value, name) : value;
      if (name === "__proto__") {
        Object.defineProperty(row, name, { value: converted, enumerable: true, writable: true });
      } else row[name] = converted;
    }
    return row;
  }

  #array(handle: StatementHandle, width: number): SqlValue[] {
    const row = new Array<SqlValue>(width);
    for (let i = 0; i < width; i++) {
      const value = this.#conn.column(handle, i);
      row[i] = typeof value === "bigint" ? bigintToNumber(value, i + 1) : value;
    }
    return row;
  }

  /**
   * Runs a query to its end. `reader` sees the statement on its first row and returns how to
   * read each row: the shape is taken per execution, as a schema change can recompile
   * `SELECT *` under us.
   */
  #collect<R>(
    sql: string,
    params: readonly SqlValue[] | undefined,
    reader: (handle: StatementHandle) => (handle: StatementHandle) => R,
  ): R[] {
    const lib = this.#conn.lib;
    return this.#execute(sql, params, "query", (handle) => {
      const rows: R[] = [];
      let rc = lib.sqlite3_step(handle);
      if (rc === SQLITE.ROW) {
        const read = reader(handle);
        for (; rc === SQLITE.ROW; rc = lib.sqlite3_step(handle)) rows.push(read(handle));
      }
      if (rc !== SQLITE.DONE) throw this.#conn.failure();
      return rows;
    });
  }

  exec(sql: string): void {
    if (this.#closed) throw closedError(this.name, "exec");
    this.#conn.exec(sql);
  }

  run(sql: string, params?: readonly SqlValue[]): RunResult {
    const lib = this.#conn.lib;
    this.#execute(sql, params, "run", (handle) => {
      let rc = lib.sqlite3_step(handle);
      while (rc === SQLITE.ROW) rc = lib.sqlite3_step(handle);
      if (rc !== SQLITE.DONE) throw this.#conn.failure();
    });
    const rowid = lib.sqlite3_last_insert_rowid(this.#conn.db);
    return {
      changes: lib.sqlite3_changes(this.#conn.db),
      lastInsertRowid: bigintToNumber(rowid, "lastInsertRowid"),
    };
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
    return this.#collect(sql, params, (first) => {
      const names = this.#conn.columnNames(first);
      return (handle) => this.#row(handle, names) as T;
    });
  }

  values(sql: string, params?: readonly SqlValue[]): SqlValue[][] {
    return this.#collect(sql, params, (first) => {
      const width = this.#conn.lib.sqlite3_column_count(first);
      return (handle) => this.#array(handle, width);
    });
  }

  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
    return this.#execute(sql, params, "query", (handle) => {
      const rc = this.#conn.lib.sqlite3_step(handle);
      if (rc === SQLITE.ROW) return this.#row(handle, this.#conn.columnNames(handle)) as T;
      if (rc !== SQLITE.DONE) throw this.#conn.failure();
      return undefined;
    });
  }

  function(name: string, fn: SqlFunction, options: SqlFunctionOptions = {}): void {
    if (this.#closed) throw closedError(this.name, `register function ${name}()`);
    const flags = SQLITE.UTF8 | (options.deterministic ? SQLITE.DETERMINISTIC : 0);
    this.#conn.createFunction(name, options.varargs ? -1 : fn.length, flags, (args) => {
      for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (typeof arg === "bigint") args[i] = bigintToNumber(arg, `${name}() argument ${i + 1}`);
      }
      return sqlFunctionResult(fn(...args), name);
    });
  }

  inTransaction(): boolean {
    if (this.#closed) throw closedError(this.name, "check for a transaction");
    return this.#conn.lib.sqlite3_get_autocommit(this.#conn.db) === 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cache.clear();
    this.#conn.close();
  }
}

/**
 * Opens `path` as the driver `name` over the FFI `platform()` returns. Every failure (no FFI on
 * this runtime, no library, a file that cannot be opened) is a rejected promise, never a throw.
 */
export async function openFfiDriver(
  name: string,
  path: string,
  options: OpenFfiOptions,
  platform: () => FfiPlatform,
): Promise<SqliteDriver> {
  const ffi = platform();
  try {
    return new FfiDriver(name, path, options, ffi);
  } catch (error) {
    throw await openError(path, error);
  }
}
