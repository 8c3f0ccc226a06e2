/**
 * Picks the best adapter for the running runtime: bun:sqlite on Bun, node:sqlite on Deno and
 * Node, or our FFI binding to the system libsqlite3 on Deno or Bun when asked for, or the npm
 * packages better-sqlite3 and libsql when asked for (loaded only then, and only if installed).
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { runtimeKey } from "../platform/runtime.ts";

export { runtimeKey } from "../platform/runtime.ts";
export type { RuntimeKey } from "../platform/runtime.ts";

/** Names of the built-in adapters `open()` can choose. */
export type DriverName =
  | "node-sqlite"
  | "bun-sqlite"
  | "deno-ffi"
  | "bun-ffi"
  | "better-sqlite3"
  | "libsql";

/** The adapter `open()` uses when none is named. */
export function defaultDriverName(): DriverName {
  return runtimeKey() === "bun" ? "bun-sqlite" : "node-sqlite";
}

/** Opens `path` with the named built-in adapter (or the runtime's default). */
export async function openDriver(path: string, name?: DriverName): Promise<SqliteDriver> {
  switch (name ?? defaultDriverName()) {
    case "bun-sqlite": {
      const { openBunSqlite } = await import("./bun_sqlite.ts");
      return openBunSqlite(path);
    }
    case "bun-ffi": {
      const { openBunFfi } = await import("./bun_ffi.ts");
      return openBunFfi(path);
    }
    case "deno-ffi": {
      const { openDenoFfi } = await import("./deno_ffi.ts");
      return openDenoFfi(path);
    }
    case "node-sqlite": {
      const { openNodeSqlite } = await import("./node_sqlite.ts");
      return openNodeSqlite(path);
    }
    case "better-sqlite3": {
      const { openBetterSqlite3 } = await import("./better_sqlite3.ts");
      return openBetterSqlite3(path);
    }
    case "libsql": {
      const { openLibsql } = await import("./libsql.ts");
      return openLibsql(path);
    }
    default:
      throw new TypeError(
        `Cannot open "${path}": unknown driver ${JSON.stringify(name)} ` +
          '(use "node-sqlite", "bun-sqlite", "deno-ffi", "bun-ffi", "better-sqlite3", "libsql" ' +
          "or a SqliteDriver)",
      );
  }
}
