/**
 * honker's extension as the queue and stream benchmarks drive it: a node:sqlite connection with
 * the extension loaded, honker's pragmas and schema, as a SqliteDriver; why it cannot run here;
 * its version; and the one-transaction wrapper the raw and honker cases share.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fromNodeSqlite } from "../adapters/node_sqlite.ts";
import type { NodeSqliteDatabaseLike } from "../adapters/node_sqlite.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { PRAGMAS_DEFAULT } from "../core/schema/sql.ts";
import { extPlatformSkip, HONKER_EXT_PATH } from "../tests/_honker_ext.ts";

type Loadable = NodeSqliteDatabaseLike & { loadExtension(path: string): void };
type NodeSqliteModule = { DatabaseSync: new (path: string, options: object) => Loadable };

/** A node:sqlite connection on `path` with honker's extension loaded, honker's pragmas and schema. */
export async function openHonkerDriver(path: string): Promise<SqliteDriver> {
  const { DatabaseSync } = await import("node:sqlite") as unknown as NodeSqliteModule;
  const handle = new DatabaseSync(path, { allowExtension: true, timeout: 5000 });
  handle.loadExtension(HONKER_EXT_PATH);
  const driver = fromNodeSqlite(handle, { path });
  driver.get("PRAGMA journal_mode = WAL");
  for (const pragma of PRAGMAS_DEFAULT) driver.exec(pragma);
  driver.get("SELECT honker_bootstrap()");
  return driver;
}

/** Why honker's extension cannot be benchmarked here (found by opening `path`), or undefined. */
export async function honkerSkipReason(path: string): Promise<string | undefined> {
  const skip = extPlatformSkip();
  if (skip) return skip;
  try {
    (await openHonkerDriver(path)).close();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The version of the installed extension package. */
export function honkerExtVersion(): string {
  const extPackage = join(dirname(HONKER_EXT_PATH), "package.json");
  return JSON.parse(readFileSync(extPackage, "utf8")).version;
}

/** Runs `fn` in one BEGIN IMMEDIATE … COMMIT on `driver` (a benchmark case never throws). */
export function inTx<T>(driver: SqliteDriver, fn: () => T): T {
  driver.exec("BEGIN IMMEDIATE");
  const result = fn();
  driver.exec("COMMIT");
  return result;
}
