/**
 * The driver matrix for tests: every adapter, with a way to open it on the running runtime or
 * the reason it cannot run here. Stateful tests loop over `driverMatrix()` and `skip` the
 * unavailable entries with that reason, so a missing driver is never a silent pass.
 *
 * `DRIVERS=node-sqlite,bun-sqlite` narrows the matrix.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import type { BetterSqlite3Class } from "../adapters/better_sqlite3.ts";
import type { Row, SqliteDriver, SqlValue } from "../core/db/driver.ts";
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
    | "better-sqlite3@12"
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

/**
 * better-sqlite3 12, the version before N-API. Its package has no prebuilt binary, so the script
 * compiles it against the Node headers into node_modules/.cache (outside package.json: `npm ci`
 * would run its install script, which downloads from GitHub).
 */
const BETTER_SQLITE3_V12_DIR = "../node_modules/.cache/better-sqlite3-v12";
const BETTER_SQLITE3_V12_BUILD = "bash scripts/build_better_sqlite3_v12.sh";

async function openBetterSqlite3V12(path: string): Promise<SqliteDriver> {
  const { openBetterSqlite3 } = await import("../adapters/better_sqlite3.ts");
  const require = createRequire(import.meta.url);
  const Database = require(`${BETTER_SQLITE3_V12_DIR}/node_modules/better-sqlite3`);
  return openBetterSqlite3(path, { Database: Database as BetterSqlite3Class });
}

/** Why better-sqlite3 12 cannot run here: not built yet, or its addon does not load. */
async function betterSqlite3V12Skip(): Promise<string | undefined> {
  // The script writes this file last, once the addon it built has loaded in Node.
  if (!existsSync(new URL(`${BETTER_SQLITE3_V12_DIR}/built-for`, import.meta.url))) {
    return `better-sqlite3 12 is not built (its package has no prebuilt binary): run ` +
      `${BETTER_SQLITE3_V12_BUILD} after npm ci`;
  }
  const skip = await loadSkip("better-sqlite3@12", () => openBetterSqlite3V12(":memory:"));
  if (skip === undefined) return undefined;
  // On Node the build is stale; Deno and Bun refuse it (Bun's message runs over three lines).
  return runtimeKey() === "node"
    ? `${skip} (rebuild: ${BETTER_SQLITE3_V12_BUILD})`
    : `${skip.split("\n")[0]} (better-sqlite3 12 is a V8-API addon, 13 moved to N-API)`;
}

const BETTER_SQLITE3_NO_SQL_FUNCTIONS = "better-sqlite3 cannot run a query inside a SQL " +
  'function ("This database connection is busy executing a query"), so honker\'s SQL ' +
  "functions are not registered on it";

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
    noSqlFunctions: BETTER_SQLITE3_NO_SQL_FUNCTIONS,
    open: openBetterSqlite3,
  },
  {
    id: "better-sqlite3@12",
    skip: await betterSqlite3V12Skip(),
    noSqlFunctions: BETTER_SQLITE3_NO_SQL_FUNCTIONS,
    open: openBetterSqlite3V12,
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

/** `driver` without the optional `values()`, so the core must read through `all()`. */
export function withoutValues(driver: SqliteDriver): SqliteDriver {
  const fn = driver.function;
  return {
    name: driver.name,
    path: driver.path,
    reentrantFunctions: driver.reentrantFunctions,
    exec: (sql) => driver.exec(sql),
    run: (sql, params) => driver.run(sql, params),
    all: <T extends Row>(sql: string, params?: readonly SqlValue[]) => driver.all<T>(sql, params),
    get: <T extends Row>(sql: string, params?: readonly SqlValue[]) => driver.get<T>(sql, params),
    inTransaction: () => driver.inTransaction(),
    close: () => driver.close(),
    function: fn && ((name, body, options) => fn.call(driver, name, body, options)),
  };
}
