/**
 * A stand-in for `jsr:@db/sqlite` (denodrivers/sqlite3), which cannot be installed here, built
 * on our FFI connection. It reproduces the library's observable behaviour as read from its
 * `src/statement.ts` and `src/database.ts`, quirks included, so that the db_sqlite adapter's
 * conversions are really exercised:
 * - `int64: false` (the default) reads INTEGER through `sqlite3_column_int`: 32 bits, truncated;
 *   with `int64` a number, or a bigint beyond ±(2^53 − 1). Statements can override either way.
 * - `parseJson: true` (the default) `JSON.parse`s text with SQLite's JSON subtype.
 * - Text is read up to the first NUL; it is bound with its byte length.
 * - Binds: integers as INTEGER, other numbers as REAL, booleans as 1/0, `undefined`/`null` as
 *   NULL, Dates as ISO text, other objects as JSON text.
 * - A statement without placeholders ignores its arguments; `run()` steps once and returns
 *   `sqlite3_changes`; `lastInsertRowId` is `Number()` of the int64 rowid.
 * - `function()` takes the arity from `fn.length`; a thrown error becomes an SQL error carrying
 *   only its message.
 * - Errors: a failed statement throws a plain Error with `sqlite3_errmsg` (no result code) and
 *   is left un-reset until its next use; SQLITE_MISUSE and a failed open throw its `SqliteError`
 *   (numeric `code`, message `"<code>: <text>"`).
 * - `values()` reads rows as arrays with the same column reader as `all()`.
 * Differences: named parameters are not supported (the adapter never uses them), blob arguments
 * of functions are copied rather than viewed, and use after `close()` throws instead of crashing.
 */

import type { SqlValue } from "../core/db/driver.ts";
import type { DbSqliteDatabaseLike, DbSqliteStatementLike } from "../adapters/db_sqlite.ts";
import { FfiConnection, type StatementHandle } from "../adapters/_ffi_connection.ts";
import { SQLITE } from "../adapters/_ffi_symbols.ts";
import { SqliteError } from "../core/db/errors.ts";

/** The @db/sqlite `DatabaseOpenOptions` the shim honours. */
export interface DbSqliteShimOptions {
  /** Return 64-bit integers exactly (number | bigint). Defaults to false, as in @db/sqlite. */
  int64?: boolean;
  /** Parse JSON-subtyped text. Defaults to true, as in @db/sqlite. */
  parseJson?: boolean;
  /** Open read-only. */
  readonly?: boolean;
}

type BindValue = SqlValue | boolean | undefined | Date | Record<string, unknown>;

/** @db/sqlite's own `SqliteError` (`src/util.ts`): a numeric code, prefixed to the message. */
export class ShimSqliteError extends Error {
  /** SQLite's result code. */
  code: number;

  /** Creates the error as @db/sqlite's `unwrap()` does. */
  constructor(code: number, message: string) {
    super(`${code}: ${message}`);
    this.name = "SqliteError";
    this.code = code;
  }
}

const JSON_SUBTYPE = 74;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const EMPTY_BLOB = new Uint8Array(0);

/** An @db/sqlite-like `Statement`. */
export class ShimStatement implements DbSqliteStatementLike {
  /** Per-statement override of the database's `int64`. */
  int64?: boolean;
  /** Per-statement override of the database's `parseJson`. */
  parseJson?: boolean;
  #db: ShimDatabase;
  #conn: FfiConnection;
  #handle: StatementHandle | null;
  #parameterCount: number;

  /** Prepares `sql` on `db`'s connection. */
  constructor(db: ShimDatabase, conn: FfiConnection, sql: string) {
    this.#db = db;
    this.#conn = conn;
    try {
      this.#handle = conn.prepare(sql);
    } catch (error) {
      conn.takeCallbackError();
      throw new Error((error as Error).message);
    }
    this.#parameterCount = conn.lib.sqlite3_bind_parameter_count(this.#handle);
  }

  /** Number of placeholders. */
  get bindParameterCount(): number {
    return this.#parameterCount;
  }

  /** Returns 64-bit integers exactly for this statement. */
  enableInt64(): this {
    this.int64 = true;
    return this;
  }

  /** Truncates integers to 32 bits for this statement. */
  disableInt64(): this {
    this.int64 = false;
    return this;
  }

  /** Parses JSON-subtyped text for this statement. */
  enableParseJson(): this {
    this.parseJson = true;
    return this;
  }

  /** Returns JSON-subtyped text as text for this statement. */
  disableParseJson(): this {
    this.parseJson = false;
    return this;
  }

  #live(): StatementHandle {
    if (this.#handle === null) throw new Error("Statement is finalized");
    if (!this.#db.open) throw new Error("Database connection is closed");
    return this.#handle;
  }

  #fail(): Error {
    this.#conn.takeCallbackError();
    const error = this.#conn.sqliteError();
    if (error.code === "SQLITE_MISUSE") return new ShimSqliteError(21, "SQLite3 API misuse");
    return new Error(error.message);
  }

  #begin(params: BindValue[]): StatementHandle {
    const handle = this.#live();
    const lib = this.#conn.lib;
    lib.sqlite3_reset(handle);
    if (this.#parameterCount === 0) return handle;
    lib.sqlite3_clear_bindings(handle);
    const first = params[0];
    if (
      typeof first === "object" && first !== null && !(first instanceof Uint8Array) &&
      !(first instanceof Date)
    ) {
      throw new Error("Named parameters are not supported by the @db/sqlite shim");
    }
    params.forEach((value, i) => this.#bind(handle, i + 1, value));
    return handle;
  }

  #bind(handle: StatementHandle, index: number, value: BindValue): void {
    if (value === undefined || value === null) return;
    let sqlValue: SqlValue;
    if (typeof value === "boolean") sqlValue = value ? 1 : 0;
    else if (value instanceof Date) sqlValue = value.toISOString();
    else if (typeof value === "object" && !(value instanceof Uint8Array)) {
      sqlValue = JSON.stringify(value);
    } else if (typeof value === "number" || typeof value === "bigint") sqlValue = value;
    else if (typeof value === "string" || value instanceof Uint8Array) sqlValue = value;
    else throw new Error(`Value of unsupported type: ${String(value)}`);
    if (this.#conn.bind(handle, index, sqlValue) !== SQLITE.OK) throw this.#fail();
  }

  #column(handle: StatementHandle, i: number): unknown {
    const lib = this.#conn.lib;
    const type = lib.sqlite3_column_type(handle, i);
    const int64 = this.int64 ?? this.#db.int64;
    if (type === SQLITE.INTEGER && !int64) return lib.sqlite3_column_int(handle, i);
    switch (type) {
      case SQLITE.INTEGER: {
        const value = lib.sqlite3_column_int64(handle, i);
        return value < -MAX_SAFE || value > MAX_SAFE ? value : Number(value);
      }
      case SQLITE.FLOAT:
        return lib.sqlite3_column_double(handle, i);
      case SQLITE.TEXT: {
        const pointer = lib.sqlite3_column_text(handle, i);
        if (pointer === null) return null;
        const text = this.#conn.ffi.cString(pointer);
        const subtype = lib.sqlite3_value_subtype(lib.sqlite3_column_value(handle, i));
        if (subtype !== JSON_SUBTYPE || !(this.parseJson ?? this.#db.parseJson)) return text;
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      }
      case SQLITE.BLOB: {
        const pointer = lib.sqlite3_column_blob(handle, i);
        if (pointer === null) return EMPTY_BLOB.slice();
        const length = lib.sqlite3_column_bytes(handle, i);
        return new Uint8Array(
          this.#conn.ffi.view(pointer, length).slice(0),
        );
      }
      default:
        return null;
    }
  }

  #object(handle: StatementHandle): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    this.#conn.columnNames(handle).forEach((name, i) => row[name] = this.#column(handle, i));
    return row;
  }

  #array(handle: StatementHandle): unknown[] {
    const row = new Array<unknown>(this.#conn.lib.sqlite3_column_count(handle));
    for (let i = 0; i < row.length; i++) row[i] = this.#column(handle, i);
    return row;
  }

  /** Steps to the end, reading each row with `read`. */
  #rows<R>(params: BindValue[], read: (handle: StatementHandle) => R): R[] {
    const handle = this.#begin(params);
    const rows: R[] = [];
    let rc = this.#conn.lib.sqlite3_step(handle);
    for (; rc === SQLITE.ROW; rc = this.#conn.lib.sqlite3_step(handle)) rows.push(read(handle));
    if (rc !== SQLITE.DONE) throw this.#fail();
    this.#conn.lib.sqlite3_reset(handle);
    return rows;
  }

  /** Steps once and returns the changes. */
  run(...params: BindValue[]): number {
    const handle = this.#begin(params);
    const rc = this.#conn.lib.sqlite3_step(handle);
    if (rc !== SQLITE.ROW && rc !== SQLITE.DONE) throw this.#fail();
    this.#conn.lib.sqlite3_reset(handle);
    return this.#conn.lib.sqlite3_changes(this.#conn.db);
  }

  /** Every row as an object. */
  all(...params: BindValue[]): Record<string, unknown>[] {
    return this.#rows(params, (handle) => this.#object(handle));
  }

  /** Every row as an array of column values, read as `all()` reads them. */
  values(...params: BindValue[]): unknown[][] {
    return this.#rows(params, (handle) => this.#array(handle));
  }

  /** The first row as an object, or undefined. */
  get(...params: BindValue[]): Record<string, unknown> | undefined {
    const handle = this.#begin(params);
    const rc = this.#conn.lib.sqlite3_step(handle);
    if (rc === SQLITE.DONE) return undefined;
    if (rc !== SQLITE.ROW) throw this.#fail();
    const row = this.#object(handle);
    this.#conn.lib.sqlite3_reset(handle);
    return row;
  }

  /** Frees the statement; later calls do nothing. */
  finalize(): void {
    if (this.#handle === null) return;
    if (this.#db.open) this.#conn.lib.sqlite3_finalize(this.#handle);
    this.#handle = null;
    this.#db.forget(this);
  }
}

/** An @db/sqlite-like `Database`. */
export class ShimDatabase implements DbSqliteDatabaseLike {
  /** Connection-wide default for 64-bit integers. */
  int64: boolean;
  /** Connection-wide default for JSON parsing. */
  parseJson: boolean;
  /** The path as opened. */
  readonly path: string;
  #conn: FfiConnection;
  #statements = new Set<ShimStatement>();
  #open = true;

  /** Opens `path` as `new Database(path, options)` would. */
  constructor(path: string, options: DbSqliteShimOptions = {}) {
    this.path = path;
    this.int64 = options.int64 ?? false;
    this.parseJson = options.parseJson ?? true;
    try {
      // @db/sqlite sets no busy timeout.
      this.#conn = new FfiConnection(path, { readOnly: options.readonly, busyTimeoutMs: 0 });
    } catch (error) {
      if (!(error instanceof SqliteError)) throw error;
      throw new ShimSqliteError(error.resultCode & 0xff, error.message);
    }
  }

  /** Whether the connection is open. */
  get open(): boolean {
    return this.#open;
  }

  #live(): FfiConnection {
    if (!this.#open) throw new Error("Database connection is closed");
    return this.#conn;
  }

  /** Whether SQLite is in autocommit mode, as @db/sqlite's `autocommit` getter. */
  get autocommit(): boolean {
    return this.#live().lib.sqlite3_get_autocommit(this.#conn.db) !== 0;
  }

  /** Rows changed by the last statement. */
  get changes(): number {
    return this.#live().lib.sqlite3_changes(this.#conn.db);
  }

  /** The last inserted rowid, through `Number()` (rounded beyond 2^53). */
  get lastInsertRowId(): number {
    return Number(this.#live().lib.sqlite3_last_insert_rowid(this.#conn.db));
  }

  /** Prepares a statement. */
  prepare(sql: string): ShimStatement {
    const statement = new ShimStatement(this, this.#live(), sql);
    this.#statements.add(statement);
    return statement;
  }

  /** Stops tracking a finalized statement. */
  forget(statement: ShimStatement): void {
    this.#statements.delete(statement);
  }

  /** `sqlite3_exec` without parameters, else one prepared statement; returns the changes. */
  exec(sql: string, ...params: BindValue[]): number {
    const conn = this.#live();
    if (params.length > 0) {
      const statement = this.prepare(sql);
      try {
        statement.run(...params);
      } finally {
        statement.finalize();
      }
    } else {
      try {
        conn.exec(sql);
      } catch (error) {
        throw new Error((error as Error).message);
      }
    }
    return this.changes;
  }

  /** Registers a scalar function, as @db/sqlite's `function(name, fn, options)`. */
  function(
    name: string,
    fn: (...args: SqlValue[]) => unknown,
    options: { deterministic?: boolean; varargs?: boolean; directOnly?: boolean } = {},
  ): void {
    const flags = SQLITE.UTF8 | (options.deterministic ? SQLITE.DETERMINISTIC : 0) |
      (options.directOnly ? SQLITE.DIRECTONLY : 0);
    this.#live().createFunction(
      name,
      options.varargs ? -1 : fn.length,
      flags,
      (args) => fn(...args),
    );
  }

  /** Finalizes statements, closes the connection and its callbacks; later calls do nothing. */
  close(): void {
    if (!this.#open) return;
    for (const statement of [...this.#statements]) statement.finalize();
    this.#open = false;
    this.#conn.close();
  }
}

/**
 * Opens a database the way a caller of @db/sqlite would: `new Database(path, options)`, then
 * `PRAGMA busy_timeout = 5000` so that concurrent tests wait for locks as the other drivers do.
 */
export function openDbSqliteShim(path: string, options: DbSqliteShimOptions = {}): ShimDatabase {
  const db = new ShimDatabase(path, options);
  db.exec("PRAGMA busy_timeout = 5000");
  return db;
}
