/**
 * Adapter for Deno through our own FFI binding to the system libsqlite3 (needs `--allow-ffi`).
 *
 * It calls the C API directly: statements are prepared once per SQL text and reused, integer
 * numbers bind as INTEGER, text is bound and read with explicit byte lengths (so strings with
 * embedded NUL round-trip) and blobs are copied out of SQLite's memory. The library is found
 * through `libraryPath`, then `HONKER_SQLITE_PATH`, then the usual system locations.
 *
 * ```ts ignore
 * import { openDenoFfi } from "honker-ts/adapters/deno-ffi";
 *
 * const driver = await openDenoFfi("app.db");
 * console.log(driver.get("SELECT sqlite_version() AS v"));
 * driver.close();
 * ```
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { openFfiDriver } from "./_ffi_driver.ts";
import type { OpenFfiOptions } from "./_ffi_driver.ts";

export type { OpenFfiOptions };
import { denoPlatform } from "../platform/ffi.ts";
import { libraryVersion } from "./_ffi_symbols.ts";

/** Options for {@linkcode openDenoFfi}. */
export type OpenDenoFfiOptions = OpenFfiOptions;

/**
 * Opens a database file through Deno FFI and the system libsqlite3.
 *
 * @param path The database file, created if missing (or `":memory:"`, or a `file:` URI).
 * @param options Library path, busy timeout, read-only mode and cache size.
 * @returns A driver that owns its connection.
 * @throws {Error} When this is not Deno, `--allow-ffi` is missing or no libsqlite3 loads.
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that is missing.
 *
 * @example Open a file
 * ```ts ignore
 * import { openDenoFfi } from "honker-ts/adapters/deno-ffi";
 *
 * const driver = await openDenoFfi("app.db", { busyTimeoutMs: 5000 });
 * ```
 */
export function openDenoFfi(path: string, options: OpenDenoFfiOptions = {}): Promise<SqliteDriver> {
  return openFfiDriver("deno-ffi", path, options, () => denoPlatform("open with Deno FFI"));
}

/**
 * The version of the libsqlite3 the FFI binding loads, such as `"3.40.1"`.
 *
 * @param libraryPath The library to ask; defaults to the one {@linkcode openDenoFfi} would load.
 * @returns The `sqlite3_libversion()` string.
 * @throws {Error} When this is not Deno, `--allow-ffi` is missing or no libsqlite3 loads.
 */
export function sqliteVersion(libraryPath?: string): string {
  return libraryVersion(denoPlatform("read the SQLite version"), libraryPath);
}
