/**
 * The raw libsqlite3 symbol table of our FFI binding (Deno FFI and `bun:ffi` describe native
 * types with the same names), and how the library file is found. Private to `adapters/`.
 *
 * @module
 */

import type { FfiPlatform, ForeignFunction, Pointer } from "../platform/ffi.ts";

/**
 * The libsqlite3 functions the binding calls. Pointers are opaque objects on Deno and numbers on
 * Bun; 64-bit integers come back as bigints on both.
 */
export interface SqliteSymbols {
  sqlite3_libversion(): Pointer;
  sqlite3_open_v2(path: Uint8Array, out: BigUint64Array, flags: number, vfs: Pointer): number;
  sqlite3_close_v2(db: Pointer): number;
  sqlite3_busy_timeout(db: Pointer, ms: number): number;
  sqlite3_exec(
    db: Pointer,
    sql: Uint8Array,
    cb: Pointer,
    arg: Pointer,
    err: BigUint64Array,
  ): number;
  sqlite3_free(p: Pointer): void;
  sqlite3_errmsg(db: Pointer): Pointer;
  sqlite3_errstr(code: number): Pointer;
  sqlite3_extended_errcode(db: Pointer): number;
  sqlite3_changes(db: Pointer): number;
  sqlite3_get_autocommit(db: Pointer): number;
  sqlite3_last_insert_rowid(db: Pointer): bigint;
  sqlite3_prepare_v2(
    db: Pointer,
    sql: Uint8Array,
    n: number,
    out: BigUint64Array,
    tail: Pointer,
  ): number;
  sqlite3_finalize(stmt: Pointer): number;
  sqlite3_reset(stmt: Pointer): number;
  sqlite3_clear_bindings(stmt: Pointer): number;
  sqlite3_step(stmt: Pointer): number;
  sqlite3_bind_parameter_count(stmt: Pointer): number;
  sqlite3_bind_null(stmt: Pointer, i: number): number;
  sqlite3_bind_int64(stmt: Pointer, i: number, v: number | bigint): number;
  sqlite3_bind_double(stmt: Pointer, i: number, v: number): number;
  sqlite3_bind_text(stmt: Pointer, i: number, v: Uint8Array, n: number, free: number): number;
  sqlite3_bind_blob(stmt: Pointer, i: number, v: Uint8Array, n: number, free: number): number;
  sqlite3_column_count(stmt: Pointer): number;
  sqlite3_column_name(stmt: Pointer, i: number): Pointer;
  sqlite3_column_type(stmt: Pointer, i: number): number;
  sqlite3_column_int(stmt: Pointer, i: number): number;
  sqlite3_column_int64(stmt: Pointer, i: number): bigint;
  sqlite3_column_double(stmt: Pointer, i: number): number;
  sqlite3_column_text(stmt: Pointer, i: number): Pointer;
  sqlite3_column_blob(stmt: Pointer, i: number): Pointer;
  sqlite3_column_bytes(stmt: Pointer, i: number): number;
  sqlite3_column_value(stmt: Pointer, i: number): Pointer;
  sqlite3_value_subtype(value: Pointer): number;
  sqlite3_value_type(value: Pointer): number;
  sqlite3_value_int64(value: Pointer): bigint;
  sqlite3_value_double(value: Pointer): number;
  sqlite3_value_text(value: Pointer): Pointer;
  sqlite3_value_blob(value: Pointer): Pointer;
  sqlite3_value_bytes(value: Pointer): number;
  sqlite3_create_function_v2(
    db: Pointer,
    name: Uint8Array,
    argc: number,
    flags: number,
    app: Pointer,
    fn: Pointer,
    step: Pointer,
    final: Pointer,
    destroy: Pointer,
  ): number;
  sqlite3_result_null(ctx: Pointer): void;
  sqlite3_result_int64(ctx: Pointer, v: number | bigint): void;
  sqlite3_result_double(ctx: Pointer, v: number): void;
  sqlite3_result_text(ctx: Pointer, v: Uint8Array, n: number, free: number): void;
  sqlite3_result_blob(ctx: Pointer, v: Uint8Array, n: number, free: number): void;
  sqlite3_result_error(ctx: Pointer, message: Uint8Array, n: number): void;
}

const p = "pointer";
const b = "buffer";
const fn = (parameters: string[], result: string): ForeignFunction => ({ parameters, result });

// Destructor arguments are declared "isize" so SQLITE_TRANSIENT (-1) can be passed as a number:
// SQLite then copies the bytes during the call and never points into a JS buffer afterwards.
const SYMBOLS: Record<keyof SqliteSymbols, ForeignFunction> = {
  sqlite3_libversion: fn([], p),
  sqlite3_open_v2: fn([b, b, "i32", p], "i32"),
  sqlite3_close_v2: fn([p], "i32"),
  sqlite3_busy_timeout: fn([p, "i32"], "i32"),
  sqlite3_exec: fn([p, b, p, p, b], "i32"),
  sqlite3_free: fn([p], "void"),
  sqlite3_errmsg: fn([p], p),
  sqlite3_errstr: fn(["i32"], p),
  sqlite3_extended_errcode: fn([p], "i32"),
  sqlite3_changes: fn([p], "i32"),
  sqlite3_get_autocommit: fn([p], "i32"),
  sqlite3_last_insert_rowid: fn([p], "i64"),
  sqlite3_prepare_v2: fn([p, b, "i32", b, p], "i32"),
  sqlite3_finalize: fn([p], "i32"),
  sqlite3_reset: fn([p], "i32"),
  sqlite3_clear_bindings: fn([p], "i32"),
  sqlite3_step: fn([p], "i32"),
  sqlite3_bind_parameter_count: fn([p], "i32"),
  sqlite3_bind_null: fn([p, "i32"], "i32"),
  sqlite3_bind_int64: fn([p, "i32", "i64"], "i32"),
  sqlite3_bind_double: fn([p, "i32", "f64"], "i32"),
  sqlite3_bind_text: fn([p, "i32", b, "i32", "isize"], "i32"),
  sqlite3_bind_blob: fn([p, "i32", b, "i32", "isize"], "i32"),
  sqlite3_column_count: fn([p], "i32"),
  sqlite3_column_name: fn([p, "i32"], p),
  sqlite3_column_type: fn([p, "i32"], "i32"),
  sqlite3_column_int: fn([p, "i32"], "i32"),
  sqlite3_column_int64: fn([p, "i32"], "i64"),
  sqlite3_column_double: fn([p, "i32"], "f64"),
  sqlite3_column_text: fn([p, "i32"], p),
  sqlite3_column_blob: fn([p, "i32"], p),
  sqlite3_column_bytes: fn([p, "i32"], "i32"),
  sqlite3_column_value: fn([p, "i32"], p),
  sqlite3_value_subtype: fn([p], "u32"),
  sqlite3_value_type: fn([p], "i32"),
  sqlite3_value_int64: fn([p], "i64"),
  sqlite3_value_double: fn([p], "f64"),
  sqlite3_value_text: fn([p], p),
  sqlite3_value_blob: fn([p], p),
  sqlite3_value_bytes: fn([p], "i32"),
  sqlite3_create_function_v2: fn([p, b, "i32", "i32", p, p, p, p, p], "i32"),
  sqlite3_result_null: fn([p], "void"),
  sqlite3_result_int64: fn([p, "i64"], "void"),
  sqlite3_result_double: fn([p, "f64"], "void"),
  sqlite3_result_text: fn([p, b, "i32", "isize"], "void"),
  sqlite3_result_blob: fn([p, b, "i32", "isize"], "void"),
  sqlite3_result_error: fn([p, b, "i32"], "void"),
};

/** SQLite result codes and flags the binding uses. */
export const SQLITE = {
  OK: 0,
  ROW: 100,
  DONE: 101,
  INTEGER: 1,
  FLOAT: 2,
  TEXT: 3,
  BLOB: 4,
  NULL: 5,
  OPEN_READONLY: 0x1,
  OPEN_READWRITE: 0x2,
  OPEN_CREATE: 0x4,
  OPEN_URI: 0x40,
  UTF8: 1,
  DETERMINISTIC: 0x800,
  DIRECTONLY: 0x80000,
  TRANSIENT: -1,
} as const;

/** Where libsqlite3 usually lives, tried in order when no path is configured. */
export const SQLITE_LIBRARY_PATHS_DEFAULT: readonly string[] = [
  "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0",
  "/usr/lib/aarch64-linux-gnu/libsqlite3.so.0",
  "/usr/lib64/libsqlite3.so.0",
  "/usr/lib/libsqlite3.so.0",
  "/usr/local/lib/libsqlite3.so.0",
  "/opt/homebrew/lib/libsqlite3.dylib",
  "/usr/lib/libsqlite3.dylib",
  "libsqlite3.so.0",
];

/** A loaded libsqlite3. */
export interface SqliteLibrary {
  /** The path it was loaded from. */
  path: string;
  /** Its functions. */
  symbols: SqliteSymbols;
}

const loaded = new Map<string, SqliteLibrary>();

/**
 * Loads libsqlite3 once per runtime and path: an explicit path, else `HONKER_SQLITE_PATH`, else
 * the first of the usual system locations that opens. An explicit path that fails is an error,
 * never silently replaced by another library.
 */
export function loadSqlite(platform: FfiPlatform, libraryPath?: string): SqliteLibrary {
  const configured = libraryPath ?? platform.env("HONKER_SQLITE_PATH");
  const candidates = configured !== undefined ? [configured] : SQLITE_LIBRARY_PATHS_DEFAULT;
  const failures: string[] = [];
  for (const path of candidates) {
    const key = `${platform.runtime}:${path}`;
    const cached = loaded.get(key);
    if (cached !== undefined) return cached;
    try {
      const symbols = platform.dlopen(path, SYMBOLS) as SqliteSymbols;
      const library = { path, symbols };
      loaded.set(key, library);
      return library;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "NotCapable" || name === "PermissionDenied") {
        throw new Error("Cannot load SQLite: Deno FFI needs --allow-ffi", { cause: error });
      }
      failures.push(`${path} (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  throw new Error(
    `Cannot load SQLite: no libsqlite3 could be opened; tried ${failures.join(", ")}. ` +
      "Pass libraryPath or set HONKER_SQLITE_PATH",
  );
}

/** The `sqlite3_libversion()` of the library `loadSqlite(platform, libraryPath)` loads. */
export function libraryVersion(platform: FfiPlatform, libraryPath?: string): string {
  const pointer: Pointer = loadSqlite(platform, libraryPath).symbols.sqlite3_libversion();
  return pointer === null ? "" : platform.cString(pointer);
}
