/**
 * Connection setup and schema bootstrap: the checks that refuse an unusable database, honker's
 * pragmas, WAL, and the idempotent DDL plus in-place migrations.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { isTransientSqliteError, UnsupportedDatabaseError } from "../db/errors.ts";
import { sleepSync } from "../wait/sleep_sync.ts";
import { busyBackoffMs } from "../wait/wait_loop.ts";
import { checkHonkerFormat } from "./format.ts";
import { reconcileTaskTables } from "../scheduler/store.ts";
import { SCHEMA_TS_FEATURES_DDL } from "./features.ts";
import {
  PRAGMAS_DEFAULT,
  SCHEMA_BOOTSTRAP_DDL,
  SCHEMA_NOTIFICATIONS_DDL,
  SCHEMA_SCHEDULER_COLUMNS,
  SCHEMA_SCHEDULER_MIGRATIONS,
  SCHEMA_TS_SCHEDULER_DDL,
  SQLITE_JSON_PROBE,
  SQLITE_VERSION,
} from "./sql.ts";

/** The oldest SQLite honker's schema works on: `DEFAULT (unixepoch())` needs 3.38. */
export const SQLITE_VERSION_MIN = "3.38.0";

function versionNumber(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split(".").map((part) => Number(part));
  return major * 1_000_000 + minor * 1_000 + patch;
}

function isMemoryPath(path: string): boolean {
  return path === "" || path === ":memory:" || /^file::memory:|[?&]mode=memory\b/.test(path);
}

/**
 * Refuses databases honker-ts cannot serve: in-memory, SQLite < 3.38, no JSON functions, or a
 * file in a newer honker format. Reads only, so nothing is written to a refused file.
 */
export function checkSupported(driver: SqliteDriver): void {
  if (isMemoryPath(driver.path)) {
    throw new UnsupportedDatabaseError(
      `Cannot open "${driver.path || ":memory:"}": an in-memory database cannot be used, because ` +
        "honker needs WAL mode and other processes (and the change watcher) must open the same " +
        "file; use a file path",
    );
  }
  const version = String(driver.get<{ version: string }>(SQLITE_VERSION)?.version ?? "0");
  if (versionNumber(version) < versionNumber(SQLITE_VERSION_MIN)) {
    throw new UnsupportedDatabaseError(
      `Cannot open "${driver.path}": SQLite ${version} is too old; honker's schema needs ` +
        `${SQLITE_VERSION_MIN} or newer (for unixepoch())`,
    );
  }
  try {
    driver.get(SQLITE_JSON_PROBE);
  } catch (error) {
    throw new UnsupportedDatabaseError(
      `Cannot open "${driver.path}": SQLite ${version} has no JSON functions ` +
        `(json_valid failed: ${(error as Error).message})`,
    );
  }
  checkHonkerFormat(driver);
}

/**
 * `PRAGMA journal_mode = WAL`, retried while another connection holds the write lock of a file
 * still in rollback-journal mode: SQLite then answers SQLITE_BUSY at once, without calling the
 * busy handler, which is what two processes creating one new file at the same moment meet. The
 * retries last at most `busyTimeoutMs`, as a wait in the busy handler would.
 */
function switchToWal(driver: SqliteDriver, busyTimeoutMs: number): string {
  const giveUpAt = Date.now() + busyTimeoutMs;
  for (let busy = 1;; busy++) {
    try {
      const row = driver.get<{ journal_mode: string }>("PRAGMA journal_mode = WAL");
      return String(row?.journal_mode ?? "").toLowerCase();
    } catch (error) {
      const left = giveUpAt - Date.now();
      if (!isTransientSqliteError(error) || left <= 0) throw error;
      sleepSync(Math.min(busyBackoffMs(busy), left));
    }
  }
}

/** Sets honker's pragmas and puts the database in WAL mode, verifying that it took. */
export function applyPragmas(driver: SqliteDriver, busyTimeoutMs: number): void {
  // busy_timeout first, so that switching to WAL (and the bootstrap after it) waits for other
  // connections as long as the application allows, instead of failing.
  driver.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeoutMs)}`);
  let mode: string;
  try {
    mode = switchToWal(driver, busyTimeoutMs);
  } catch (error) {
    // A read-only database cannot change journal mode; any other failure (a corrupt file, a
    // missing directory) is reported as SQLite said it.
    if (!/readonly|read-only/i.test((error as Error).message)) throw error;
    mode = `unchanged: ${(error as Error).message}`;
  }
  if (mode !== "wal") {
    throw new UnsupportedDatabaseError(
      `Cannot open "${driver.path}": the database could not be put into WAL mode ` +
        `(journal_mode is "${mode}"); honker-ts needs WAL so that readers in other processes ` +
        "never block the writer",
    );
  }
  for (const pragma of PRAGMAS_DEFAULT) driver.exec(pragma);
}

/**
 * Creates honker's tables if missing and adds columns older honker versions lack. Safe to run
 * from several processes at once: the DDL is idempotent and runs under BEGIN IMMEDIATE, and a
 * "duplicate column" from a racing migration is ignored as honker does.
 *
 * Inside a transaction the connection's owner opened, it runs in a savepoint of it.
 */
export function bootstrapSchema(driver: SqliteDriver): void {
  // On a shared connection whose owner has a transaction open, join it through a savepoint.
  const joined = driver.inTransaction();
  driver.exec(joined ? "SAVEPOINT honker_ts_bootstrap" : "BEGIN IMMEDIATE");
  try {
    createSchema(driver);
    driver.exec(joined ? "RELEASE honker_ts_bootstrap" : "COMMIT");
  } catch (error) {
    driver.exec(
      joined ? "ROLLBACK TO honker_ts_bootstrap; RELEASE honker_ts_bootstrap" : "ROLLBACK",
    );
    throw error;
  }
}

/** The DDL and migrations without transaction control (used by `honker_bootstrap()`). */
export function createSchema(driver: SqliteDriver): void {
  // Again here, under the bootstrap's write lock: a newer honker may have migrated the file
  // since checkSupported() looked, and honker_bootstrap() arrives here directly.
  checkHonkerFormat(driver);
  driver.exec(SCHEMA_NOTIFICATIONS_DDL);
  driver.exec(SCHEMA_BOOTSTRAP_DDL);
  const columns = new Set(
    driver.all<{ name: string }>(SCHEMA_SCHEDULER_COLUMNS).map((row) => row.name),
  );
  for (const { column, ddl } of SCHEMA_SCHEDULER_MIGRATIONS) {
    if (columns.has(column)) continue;
    try {
      driver.exec(ddl);
    } catch (error) {
      if (!String((error as Error).message).toLowerCase().includes("duplicate column")) throw error;
    }
  }
  // honker-ts's own scheduler table; extended-syntax schedules an older honker-ts stored in
  // honker's table move there, so that no honker leader meets one.
  driver.exec(SCHEMA_TS_SCHEDULER_DDL);
  reconcileTaskTables(driver);
  for (const ddl of SCHEMA_TS_FEATURES_DDL) driver.exec(ddl);
}
