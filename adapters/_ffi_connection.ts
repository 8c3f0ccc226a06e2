/**
 * One libsqlite3 connection driven through FFI (Deno's or Bun's): the C calls and value
 * conversions shared by the FFI drivers and the @db/sqlite test shim. Private to `adapters/`.
 *
 * @module
 */

import type { SqlValue } from "../core/db/driver.ts";
import { SqliteError } from "../core/db/errors.ts";
import { denoPlatform, type FfiPlatform, type Pointer } from "../platform/ffi.ts";
import { loadSqlite, SQLITE, type SqliteSymbols } from "./_ffi_symbols.ts";

/** How to open an {@linkcode FfiConnection}. */
export interface FfiConnectionOptions {
  /** The libsqlite3 file to load. */
  libraryPath?: string;
  /** Milliseconds to wait for a lock before SQLITE_BUSY. Defaults to 5000. */
  busyTimeoutMs?: number;
  /** Open read-only. */
  readOnly?: boolean;
}

/** A prepared statement (`sqlite3_stmt*`): never NULL. */
export type StatementHandle = Exclude<Pointer, null>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Deno passes an empty buffer as NULL, which SQLite would bind as NULL rather than ''/x''.
const EMPTY = new Uint8Array(1);

function cString(text: string): Uint8Array {
  return encoder.encode(`${text}\0`);
}

/**
 * One libsqlite3 connection driven through FFI: the C calls and the value conversions, with no
 * caching or contract checks. Integers read as numbers when safe, else as bigints.
 *
 * @internal Shared by the drivers in `deno_ffi.ts` and `bun_ffi.ts` and the @db/sqlite test
 * shim; not public.
 */
export class FfiConnection {
  /** The library's functions. */
  readonly lib: SqliteSymbols;
  /** The runtime's FFI. */
  readonly ffi: FfiPlatform;
  #db: Pointer;
  #out = new BigUint64Array(1);
  #callbacks = new Map<string, { close(): void }>();
  #callbackError: unknown;

  /** Opens `path` (a file, `":memory:"` or a `file:` URI); Deno FFI unless `ffi` is given. */
  constructor(path: string, options: FfiConnectionOptions = {}, ffi?: FfiPlatform) {
    this.ffi = ffi ?? denoPlatform("open with Deno FFI");
    this.lib = loadSqlite(this.ffi, options.libraryPath).symbols;
    const flags =
      (options.readOnly ? SQLITE.OPEN_READONLY : SQLITE.OPEN_READWRITE | SQLITE.OPEN_CREATE) |
      SQLITE.OPEN_URI;
    const rc = this.lib.sqlite3_open_v2(cString(path), this.#out, flags, null);
    this.#db = this.ffi.pointer(this.#out[0]);
    if (rc !== SQLITE.OK) {
      const message = this.#db === null
        ? "out of memory"
        : this.#text(this.lib.sqlite3_errmsg(this.#db));
      this.lib.sqlite3_close_v2(this.#db);
      throw new SqliteError(message, rc);
    }
    this.lib.sqlite3_busy_timeout(this.#db, options.busyTimeoutMs ?? 5000);
  }

  /** The `sqlite3*` handle. */
  get db(): Pointer {
    return this.#db;
  }

  #text(pointer: Pointer): string {
    return pointer === null ? "" : this.ffi.cString(pointer);
  }

  #bytes(pointer: Pointer, length: number): Uint8Array {
    if (pointer === null || length === 0) return new Uint8Array(0);
    return new Uint8Array(this.ffi.view(pointer, length));
  }

  /** The connection's last error, with its extended result code. */
  sqliteError(message?: string): SqliteError {
    const resultCode = this.lib.sqlite3_extended_errcode(this.#db);
    return new SqliteError(message ?? this.#text(this.lib.sqlite3_errmsg(this.#db)), resultCode);
  }

  /** Takes the error a JS function threw during the last statement, if any. */
  takeCallbackError(): unknown {
    const error = this.#callbackError;
    this.#callbackError = undefined;
    return error;
  }

  /** The error that made the last call fail: a JS function's own exception, else SQLite's. */
  failure(): unknown {
    return this.takeCallbackError() ?? this.sqliteError();
  }

  /** Runs one or more statements through `sqlite3_exec`. */
  exec(sql: string): void {
    this.#out[0] = 0n;
    if (this.lib.sqlite3_exec(this.#db, cString(sql), null, null, this.#out) === SQLITE.OK) return;
    const pointer = this.ffi.pointer(this.#out[0]);
    const message = pointer === null ? undefined : this.#text(pointer);
    this.lib.sqlite3_free(pointer);
    throw this.takeCallbackError() ?? this.sqliteError(message);
  }

  /** Compiles one statement; throws on an SQL error or on text that holds no statement. */
  prepare(sql: string): StatementHandle {
    const bytes = encoder.encode(sql);
    const rc = this.lib.sqlite3_prepare_v2(this.#db, bytes, bytes.length, this.#out, null);
    if (rc !== SQLITE.OK) throw this.failure();
    const statement = this.ffi.pointer(this.#out[0]);
    if (statement === null) throw new Error("Cannot prepare: the SQL text holds no statement");
    return statement;
  }

  /** Binds one value at 1-based `index`; returns SQLite's result code. */
  bind(statement: StatementHandle, index: number, value: SqlValue): number {
    const lib = this.lib;
    if (value === null) return lib.sqlite3_bind_null(statement, index);
    switch (typeof value) {
      case "number":
        // Only exact integers bind as INTEGER; a whole number past 2^53 is already an
        // approximation, so it stays REAL (the contract, as in the other adapters).
        if (!Number.isSafeInteger(value)) return lib.sqlite3_bind_double(statement, index, value);
        return lib.sqlite3_bind_int64(statement, index, value);
      case "bigint":
        return lib.sqlite3_bind_int64(statement, index, value);
      case "string": {
        const bytes = value === "" ? EMPTY : encoder.encode(value);
        return lib.sqlite3_bind_text(
          statement,
          index,
          bytes,
          value === "" ? 0 : bytes.length,
          SQLITE.TRANSIENT,
        );
      }
      default:
        return lib.sqlite3_bind_blob(
          statement,
          index,
          value.length === 0 ? EMPTY : value,
          value.length,
          SQLITE.TRANSIENT,
        );
    }
  }

  /** The column names of a statement's result. */
  columnNames(statement: StatementHandle): string[] {
    const names = new Array<string>(this.lib.sqlite3_column_count(statement));
    for (let i = 0; i < names.length; i++) {
      names[i] = this.#text(this.lib.sqlite3_column_name(statement, i));
    }
    return names;
  }

  /** Reads column `i` of the current row; integers beyond ±(2^53 − 1) come back as bigint. */
  column(statement: StatementHandle, i: number): SqlValue {
    const lib = this.lib;
    switch (lib.sqlite3_column_type(statement, i)) {
      case SQLITE.INTEGER: {
        // A double is exact below 2^53, which saves allocating a bigint for every integer.
        const value = lib.sqlite3_column_double(statement, i);
        return Number.isSafeInteger(value) ? value : lib.sqlite3_column_int64(statement, i);
      }
      case SQLITE.FLOAT:
        return lib.sqlite3_column_double(statement, i);
      case SQLITE.TEXT: {
        const pointer = lib.sqlite3_column_text(statement, i);
        return decoder.decode(this.#bytes(pointer, lib.sqlite3_column_bytes(statement, i)));
      }
      case SQLITE.BLOB: {
        const pointer = lib.sqlite3_column_blob(statement, i);
        return this.#bytes(pointer, lib.sqlite3_column_bytes(statement, i)).slice();
      }
      default:
        return null;
    }
  }

  #argument(value: Pointer): SqlValue {
    const lib = this.lib;
    switch (lib.sqlite3_value_type(value)) {
      case SQLITE.INTEGER: {
        const n = lib.sqlite3_value_int64(value);
        return n >= -Number.MAX_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER ? Number(n) : n;
      }
      case SQLITE.FLOAT:
        return lib.sqlite3_value_double(value);
      case SQLITE.TEXT: {
        const pointer = lib.sqlite3_value_text(value);
        return decoder.decode(this.#bytes(pointer, lib.sqlite3_value_bytes(value)));
      }
      case SQLITE.BLOB: {
        const pointer = lib.sqlite3_value_blob(value);
        return this.#bytes(pointer, lib.sqlite3_value_bytes(value)).slice();
      }
      default:
        return null;
    }
  }

  #result(context: Pointer, value: unknown): void {
    const lib = this.lib;
    if (value === null || value === undefined) lib.sqlite3_result_null(context);
    else if (typeof value === "boolean") lib.sqlite3_result_int64(context, value ? 1 : 0);
    else if (typeof value === "number") {
      if (Number.isSafeInteger(value)) lib.sqlite3_result_int64(context, value);
      else lib.sqlite3_result_double(context, value);
    } else if (typeof value === "bigint") lib.sqlite3_result_int64(context, value);
    else if (typeof value === "string") {
      const bytes = encoder.encode(value);
      lib.sqlite3_result_text(
        context,
        bytes.length ? bytes : EMPTY,
        bytes.length,
        SQLITE.TRANSIENT,
      );
    } else if (value instanceof Uint8Array) {
      lib.sqlite3_result_blob(
        context,
        value.length ? value : EMPTY,
        value.length,
        SQLITE.TRANSIENT,
      );
    } else throw new TypeError(`Invalid return value: ${Object.prototype.toString.call(value)}`);
  }

  /**
   * Registers a scalar function. `fn` gets the arguments as {@linkcode column} reads them; what
   * it throws becomes the statement's error (kept for {@linkcode failure}).
   */
  createFunction(
    name: string,
    argc: number,
    flags: number,
    fn: (args: SqlValue[]) => unknown,
  ): void {
    const callback = this.ffi.callback(
      { parameters: ["pointer", "i32", "pointer"], result: "void" },
      (context, argc, argv) => {
        try {
          const args = new Array<SqlValue>(argc);
          for (let i = 0; i < argc; i++) {
            args[i] = this.#argument(this.ffi.readPointer(argv!, i * 8));
          }
          this.#result(context, fn(args));
        } catch (error) {
          this.#callbackError ??= error;
          const message = encoder.encode(error instanceof Error ? error.message : String(error));
          this.lib.sqlite3_result_error(context, message.length ? message : EMPTY, message.length);
        }
      },
    );
    const rc = this.lib.sqlite3_create_function_v2(
      this.#db,
      cString(name),
      argc,
      flags,
      null,
      callback.pointer,
      null,
      null,
      null,
    );
    if (rc !== SQLITE.OK) {
      callback.close();
      throw this.sqliteError();
    }
    // SQLite refuses to replace a function while a statement runs, so the old callback is idle.
    const key = `${name.toLowerCase()}/${argc}`;
    this.#callbacks.get(key)?.close();
    this.#callbacks.set(key, callback);
  }

  /** Closes the connection, then the function callbacks SQLite could have called. */
  close(): void {
    this.lib.sqlite3_close_v2(this.#db);
    for (const callback of this.#callbacks.values()) callback.close();
    this.#callbacks.clear();
  }
}
