/**
 * Opening the database file for the CLI. Read commands open a read-only connection and query
 * honker's tables with plain SQL: nothing is created, bootstrapped or migrated, so inspecting a
 * file written by honker (or a backup on a read-only disk) never changes it. Commands that wait
 * for changes or change jobs go through `open()`, after the same checks.
 *
 * @module
 */

import { existsSync, statSync } from "node:fs";
import type { Database, SqliteDriver } from "../mod.ts";
import { runtimeKey } from "../platform/runtime.ts";
import { CliError } from "./_cli.ts";

/** honker's tables present in a file. */
const HONKER_TABLES = `SELECT name FROM sqlite_master
  WHERE type = 'table' AND name LIKE '\\_honker\\_%' ESCAPE '\\'`;

/** A read-only connection and the honker tables the file has. */
export interface Inspection {
  driver: SqliteDriver;
  /** Which of honker's tables exist; a section whose table is missing reads as empty. */
  tables: ReadonlySet<string>;
}

function requireFile(path: string): void {
  if (!existsSync(path)) throw new CliError(`Cannot open "${path}": no such file`);
  if (!statSync(path).isFile()) throw new CliError(`Cannot open "${path}": not a file`);
}

/** The honker tables of a file; throws CliError when it is not SQLite or has none. */
export function honkerTables(driver: SqliteDriver, path: string): Set<string> {
  let names: string[];
  try {
    names = driver.all<{ name: string }>(HONKER_TABLES).map((row) => row.name);
  } catch (error) {
    throw new CliError(`Cannot read "${path}": ${(error as Error).message}`);
  }
  if (names.length === 0) {
    throw new CliError(`Cannot read "${path}": not a honker database (no _honker_* tables)`);
  }
  return new Set(names);
}

async function openReadOnlyDriver(path: string): Promise<SqliteDriver> {
  try {
    if (runtimeKey() === "bun") {
      const { openBunSqlite } = await import("../adapters/bun_sqlite.ts");
      return await openBunSqlite(path, { readOnly: true });
    }
    const { openNodeSqlite } = await import("../adapters/node_sqlite.ts");
    return await openNodeSqlite(path, { readOnly: true });
  } catch (error) {
    throw new CliError(`Cannot open "${path}": ${(error as Error).message}`);
  }
}

/**
 * Opens an existing honker file read-only.
 *
 * @throws {CliError} When the file is missing, is not SQLite, or has no honker tables.
 */
export async function inspect(path: string): Promise<Inspection> {
  requireFile(path);
  const driver = await openReadOnlyDriver(path);
  try {
    return { driver, tables: honkerTables(driver, path) };
  } catch (error) {
    driver.close();
    throw error;
  }
}

/**
 * Opens an existing honker file with `open()` (honker's pragmas; the schema bootstrap changes
 * nothing on a file that has it), for the commands that wait for changes or change jobs.
 *
 * @throws {CliError} As `inspect()`, or when `open()` refuses the file.
 */
export async function openExisting(path: string): Promise<Database> {
  const { driver } = await inspect(path);
  driver.close();
  try {
    // Loaded here, so that read commands (and --help) do not load the whole library.
    const { open } = await import("../mod.ts");
    // The CLI calls the API, never honker's SQL functions, so they need not be registered.
    return await open(path, { sqlFunctions: false });
  } catch (error) {
    throw new CliError(`Cannot open "${path}": ${(error as Error).message}`);
  }
}

/** SQLite's clock, as every process on the file reads it. */
export function sqliteNow(driver: SqliteDriver): number {
  return driver.get<{ now: number }>("SELECT unixepoch() AS now")?.now ?? 0;
}
