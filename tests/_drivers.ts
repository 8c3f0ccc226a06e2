/**
 * The driver matrix for tests: every adapter, with a way to open it on the running runtime or
 * the reason it cannot run here. Stateful tests loop over `driverMatrix()` and `skip` the
 * unavailable entries with that reason, so a missing driver is never a silent pass.
 *
 * `DRIVERS=node-sqlite,bun-sqlite` narrows the matrix.
 */

import type { SqliteDriver } from "../core/driver.ts";
import type { KnownLimitation } from "../testing/driver_conformance.ts";
import { runtimeKey } from "./_runtime.ts";

/** One adapter as seen by the tests. */
export interface DriverEntry {
  /** Stable id, also used by the `DRIVERS` filter. */
  id:
    | "node-sqlite"
    | "bun-sqlite"
    | "deno-ffi"
    | "bun-ffi"
    | "db-sqlite"
    | "better-sqlite3"
    | "libsql";
  /** Why it cannot run on this runtime, or undefined when it can. */
  skip: string | undefined;
  /** Opens a fresh connection to `path`. */
  open(path: string): Promise<SqliteDriver>;
  /** Contract rules the native binding cannot keep here, with the reason (conformance skips). */
  knownLimitations?: Partial<Record<KnownLimitation, string>>;
  /** False when the adapter has no `function()` because its binding cannot register one. */
  supportsFunctions?: boolean;
  /**
   * Why honker's SQL functions (which run SQL) are not registered on this driver, so that tests
   * calling them from SQL skip; undefined when they are.
   */
  noSqlFunctions?: string;
}

/** node:sqlite as built into Node 22 and Deno (Bun's own node:sqlite does not have these). */
const NODE_SQLITE_LIMITS: Partial<Record<KnownLimitation, string>> = {
  "nul-in-text": "node:sqlite on Node and Deno cuts text at the first NUL when reading",
  "read-min-int64": "node:sqlite on Node and Deno reads -(2^63) as a rounded number without " +
    "throwing (its range check misses that one value)",
};

declare const Deno: { permissions?: { querySync?(d: { name: string }): { state: string } } };

function ffiAllowed(): boolean {
  try {
    return Deno.permissions?.querySync?.({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/** Why an npm binding cannot run here: undefined when it opens a connection, else its error. */
async function loadSkip(
  name: string,
  open: () => Promise<SqliteDriver>,
): Promise<string | undefined> {
  try {
    (await open()).close();
    return undefined;
  } catch (error) {
    return `${name} does not load on ${runtimeKey()}: ${(error as Error).message}`;
  }
}

async function openBetterSqlite3(path: string): Promise<SqliteDriver> {
  const { openBetterSqlite3 } = await import("../adapters/better_sqlite3.ts");
  return openBetterSqlite3(path);
}

async function openLibsql(path: string): Promise<SqliteDriver> {
  const { openLibsql } = await import("../adapters/libsql.ts");
  return openLibsql(path);
}

/**
 * libsql works under `deno run`, but under `deno test` (Deno 2.9) the process dies with SIGSEGV
 * (in a tokio thread of libsql's native module) when the runner tears down after a test file
 * that prepared a libsql statement, and the files after it never run.
 */
const LIBSQL_DENO_TEST = "libsql crashes `deno test` (SIGSEGV in its native module when the " +
  "runner tears down a file that prepared a statement, so later files never run); " +
  "tests/libsql_deno_test.ts runs it under `deno run` instead";

const ALL: DriverEntry[] = [
  {
    id: "node-sqlite",
    skip: undefined,
    knownLimitations: runtimeKey() === "bun" ? undefined : NODE_SQLITE_LIMITS,
    async open(path) {
      const { openNodeSqlite } = await import("../adapters/node_sqlite.ts");
      return openNodeSqlite(path);
    },
  },
  {
    id: "bun-sqlite",
    skip: runtimeKey() === "bun" ? undefined : "bun:sqlite needs Bun",
    noSqlFunctions: "bun:sqlite cannot run a query inside a SQL function, so honker's SQL " +
      "functions are not registered on it",
    async open(path) {
      const { openBunSqlite } = await import("../adapters/bun_sqlite.ts");
      return openBunSqlite(path);
    },
  },
  {
    id: "deno-ffi",
    skip: runtimeKey() !== "deno"
      ? "the FFI binding needs Deno"
      : ffiAllowed()
      ? undefined
      : "the FFI binding needs --allow-ffi",
    async open(path) {
      const { openDenoFfi } = await import("../adapters/deno_ffi.ts");
      return openDenoFfi(path);
    },
  },
  {
    id: "bun-ffi",
    skip: runtimeKey() === "bun" ? undefined : "the bun:ffi binding needs Bun",
    async open(path) {
      const { openBunFfi } = await import("../adapters/bun_ffi.ts");
      return openBunFfi(path);
    },
  },
  {
    id: "db-sqlite",
    knownLimitations: {
      "nul-in-text": "@db/sqlite reads text with a C string read, which stops at the first NUL",
    },
    skip: runtimeKey() !== "deno"
      ? "the @db/sqlite adapter needs Deno"
      : ffiAllowed()
      ? undefined
      : "the @db/sqlite adapter needs --allow-ffi",
    async open(path) {
      const { openDbSqliteShim } = await import("./_db_sqlite_shim.ts");
      const { fromDbSqlite } = await import("../adapters/db_sqlite.ts");
      return fromDbSqlite(openDbSqliteShim(path), { path });
    },
  },
  {
    id: "better-sqlite3",
    skip: await loadSkip("better-sqlite3", () => openBetterSqlite3(":memory:")),
    noSqlFunctions: 'better-sqlite3 cannot run a query inside a SQL function ("This ' +
      "database connection is busy executing a query\"), so honker's SQL functions are not " +
      "registered on it",
    open: openBetterSqlite3,
  },
  {
    id: "libsql",
    skip: runtimeKey() === "deno"
      ? LIBSQL_DENO_TEST
      : await loadSkip("libsql", () => openLibsql(":memory:")),
    supportsFunctions: false,
    noSqlFunctions: "libsql cannot register SQL functions (its Database.function() throws " +
      '"not implemented")',
    knownLimitations: {
      "nul-in-text": "libsql reads text only up to its first NUL character",
      "close-releases-file": "libsql closes the file only once the statements prepared on " +
        "the connection are garbage-collected, and has no way to finalize them",
    },
    open: openLibsql,
  },
];

/** Every adapter, each either runnable here or carrying the reason it is skipped. */
export function driverMatrix(): DriverEntry[] {
  const filter = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process?.env?.DRIVERS;
  if (!filter) return ALL;
  const wanted = new Set(filter.split(",").map((s) => s.trim()));
  return ALL.map((entry) =>
    wanted.has(entry.id) ? entry : { ...entry, skip: entry.skip ?? "excluded by DRIVERS" }
  );
}
