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

import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";
import { argsToNumbers, bigintToNumber, checkParamCount, sqlFunctionResult } from "./_shared.ts";
import { openError } from "./_sqlite_errors.ts";
import { StatementDriver, type StatementOp } from "./_statement_driver.ts";
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

/** A row object read from the statement's current row. */
function readRow(conn: FfiConnection, handle: StatementHandle, names: string[]): Row {
  const row: Row = {};
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const value = conn.column(handle, i);
    const converted = typeof value === "bigint" ? bigintToNumber(value, name) : value;
    if (name === "__proto__") {
      Object.defineProperty(row, name, { value: converted, enumerable: true, writable: true });
    } else row[name] = converted;
  }
  return row;
}

/** The statement's current row as an array of cells. */
function readArray(conn: FfiConnection, handle: StatementHandle, width: number): SqlValue[] {
  const row = new Array<SqlValue>(width);
  for (let i = 0; i < width; i++) {
    const value = conn.column(handle, i);
    row[i] = typeof value === "bigint" ? bigintToNumber(value, i + 1) : value;
  }
  return row;
}

/** The statements of one FFI connection, as {@linkcode StatementDriver} runs them. */
function ffiStatements(conn: FfiConnection) {
  const lib = conn.lib;
  /**
   * Runs `use` on the statement with `values` bound, then resets it and clears its bindings.
   */
  const bound = <R>(use: (handle: StatementHandle) => R): StatementOp<CachedStatement, R> => {
    return ({ handle, parameterCount }, values) => {
      try {
        checkParamCount(values, parameterCount);
        for (let i = 0; i < values.length; i++) {
          if (conn.bind(handle, i + 1, values[i]) !== SQLITE.OK) throw conn.sqliteError();
        }
        return use(handle);
      } finally {
        lib.sqlite3_reset(handle);
        lib.sqlite3_clear_bindings(handle);
      }
    };
  };
  /**
   * Runs a query to its end. `reader` sees the statement on its first row and returns how to
   * read each row: the shape is taken per execution, as a schema change can recompile
   * `SELECT *` under us.
   */
  const collect = <R>(reader: (first: StatementHandle) => (handle: StatementHandle) => R) =>
    bound((handle): R[] => {
      const rows: R[] = [];
      let rc = lib.sqlite3_step(handle);
      if (rc === SQLITE.ROW) {
        const read = reader(handle);
        for (; rc === SQLITE.ROW; rc = lib.sqlite3_step(handle)) rows.push(read(handle));
      }
      if (rc !== SQLITE.DONE) throw conn.failure();
      return rows;
    });
  return {
    run: bound((handle) => {
      let rc = lib.sqlite3_step(handle);
      while (rc === SQLITE.ROW) rc = lib.sqlite3_step(handle);
      if (rc !== SQLITE.DONE) throw conn.failure();
      return {
        changes: lib.sqlite3_changes(conn.db),
        lastInsertRowid: bigintToNumber(lib.sqlite3_last_insert_rowid(conn.db), "lastInsertRowid"),
      };
    }),
    all: collect((first) => {
      const names = conn.columnNames(first);
      return (handle) => readRow(conn, handle, names);
    }),
    values: collect((first) => {
      const width = lib.sqlite3_column_count(first);
      return (handle) => readArray(conn, handle, width);
    }),
    get: bound((handle) => {
      const rc = lib.sqlite3_step(handle);
      if (rc === SQLITE.ROW) return readRow(conn, handle, conn.columnNames(handle));
      if (rc !== SQLITE.DONE) throw conn.failure();
      return undefined;
    }),
  };
}

/** A SqliteDriver over one FFI connection; `name` says which runtime's FFI. */
function ffiDriver(
  name: string,
  path: string,
  options: OpenFfiOptions,
  ffi: FfiPlatform,
): StatementDriver<CachedStatement> {
  const conn = new FfiConnection(path, options, ffi);
  const lib = conn.lib;
  return new StatementDriver<CachedStatement>({
    name,
    path,
    integersAsBigInt: false,
    statementCacheSize: options.statementCacheSize,
    // The connection reports SQLite's errors, and a SQL function's exception, as they are.
    sqliteError: (error) => error,
    prepare: (sql) => {
      const handle = conn.prepare(sql);
      return { handle, parameterCount: lib.sqlite3_bind_parameter_count(handle) };
    },
    finalize: (statement) => lib.sqlite3_finalize(statement.handle),
    ...ffiStatements(conn),
    exec: (sql) => conn.exec(sql),
    inTransaction: () => lib.sqlite3_get_autocommit(conn.db) === 0,
    function: (name, fn, options) => {
      const flags = SQLITE.UTF8 | (options.deterministic ? SQLITE.DETERMINISTIC : 0);
      conn.createFunction(name, options.varargs ? -1 : fn.length, flags, (args) => {
        argsToNumbers(name, args);
        return sqlFunctionResult(fn(...args), name);
      });
    },
    close: () => conn.close(),
  });
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
    return ffiDriver(name, path, options, ffi);
  } catch (error) {
    throw await openError(path, error);
  }
}
