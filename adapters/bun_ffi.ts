/**
 * Adapter for Bun through `bun:ffi` and the system libsqlite3: the same binding as the Deno FFI
 * adapter, for Bun users who want the system's SQLite rather than the one built into Bun.
 *
 * Why: on the machine we measure on, a claim's `UPDATE` after a pause takes 2–2.5× longer
 * through Bun's built-in SQLite (`bun:sqlite`, and Bun's `node:sqlite`) than through the system
 * libsqlite3 (0.41 → 0.16–0.18 ms, `bench/claim_floor.ts`), and that `UPDATE` is most of a
 * woken worker's time to its handler. Reads of many rows (stream replay) stay faster through
 * `bun:sqlite`, which builds rows natively; this adapter reads a row with a few FFI calls per
 * column.
 *
 * The library is found through `libraryPath`, then `HONKER_SQLITE_PATH`, then the usual system
 * locations (on Debian and Ubuntu: `apt-get install libsqlite3-0`).
 *
 * ```ts ignore
 * import { open } from "honker-ts";
 *
 * const db = await open("app.db", { driver: "bun-ffi" });
 * ```
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { openFfiDriver } from "./_ffi_driver.ts";
import type { OpenFfiOptions } from "./_ffi_driver.ts";

export type { OpenFfiOptions };
import { bunPlatform } from "../platform/ffi.ts";
import { libraryVersion } from "./_ffi_symbols.ts";

/** Options for {@linkcode openBunFfi}. */
export type OpenBunFfiOptions = OpenFfiOptions;

/**
 * Opens a database file through `bun:ffi` and the system libsqlite3.
 *
 * @param path The database file, created if missing (or `":memory:"`, or a `file:` URI).
 * @param options Library path, busy timeout, read-only mode and cache size.
 * @returns A driver that owns its connection.
 * @throws {Error} When this is not Bun or no libsqlite3 loads.
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that is missing.
 *
 * @example Open a file
 * ```ts ignore
 * import { openBunFfi } from "honker-ts/adapters/bun-ffi";
 *
 * const driver = await openBunFfi("app.db", { busyTimeoutMs: 5000 });
 * ```
 */
export function openBunFfi(path: string, options: OpenBunFfiOptions = {}): Promise<SqliteDriver> {
  return openFfiDriver("bun-ffi", path, options, () => bunPlatform("open with bun:ffi"));
}

/**
 * The version of the libsqlite3 this adapter loads, such as `"3.40.1"`.
 *
 * @param libraryPath The library to ask; defaults to the one {@linkcode openBunFfi} would load.
 * @returns The `sqlite3_libversion()` string.
 * @throws {Error} When this is not Bun or no libsqlite3 loads.
 */
export function sqliteVersion(libraryPath?: string): string {
  return libraryVersion(bunPlatform("read the SQLite version"), libraryPath);
}
