/**
 * A throw-away honker database for your application's unit tests.
 *
 * honker-ts refuses `:memory:` (other connections, the change watcher and worker processes must
 * see the same file), so each test gets a real file in a fresh temporary directory instead;
 * closing the database removes the directory with the file, its `-wal` and `-shm` files and
 * anything the watcher left beside them.
 *
 * @example A unit test of code that enqueues
 * ```ts ignore
 * import { test } from "node:test";
 * import assert from "node:assert/strict";
 * import { openTestDatabase } from "honker-ts/testing/database";
 *
 * test("signing up enqueues a welcome email", async () => {
 *   await using db = await openTestDatabase();
 *   db.queue("emails").enqueue({ to: "a@example.com" });
 *   assert.equal(db.queue("emails").claimOne("test")?.payload.to, "a@example.com");
 * });
 * ```
 *
 * @module
 */

import { mkdtemp, rm } from "node:fs/promises";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromDriver, open } from "../mod.ts";
import type { Database, DatabaseOptions, DriverName, SqliteDriver } from "../mod.ts";

/** Opens the driver of a test database on the temporary file's path (your own connection). */
export type TestDriverFactory = (path: string) => SqliteDriver | Promise<SqliteDriver>;

/** Options for {@linkcode openTestDatabase}. */
export interface OpenTestDatabaseOptions extends DatabaseOptions {
  /**
   * Which connection to use: a built-in adapter's name (default: the runtime's default
   * driver), or a function that opens one on the given path, e.g. the handle your ORM uses.
   * Either way the test database owns it: `close()` closes it.
   */
  driver?: DriverName | TestDriverFactory;
  /** The database file's name inside the temporary directory. Defaults to `"test.db"`. */
  name?: string;
}

/** A Database on a temporary file whose `close()` also removes the file's directory. */
export interface TestDatabase extends Database {
  /** The temporary directory holding the file; gone once the database is closed. */
  readonly directory: string;
}

/**
 * Opens a honker database on a fresh file in a new temporary directory. `close()` (or the end
 * of an `await using` block) closes it and its driver, then removes the directory with the
 * file, its `-wal` and `-shm` files. Close other connections you opened on `db.path` first.
 *
 * @param options The driver, the file's name and any `open()` option (`wake`, `retention` …).
 * @returns The open Database, with `directory` and a `close()` that cleans up.
 * @throws {TypeError} When `name` is not a plain file name or `driver` is neither an adapter's
 * name nor a function, before anything is created.
 *
 * @example Share the connection of your ORM (Drizzle on better-sqlite3)
 * ```ts ignore
 * import Sqlite from "better-sqlite3";
 * import { drizzle } from "drizzle-orm/better-sqlite3";
 * import { fromBetterSqlite3 } from "honker-ts/adapters/better-sqlite3";
 * import { openTestDatabase } from "honker-ts/testing/database";
 *
 * let sqlite!: Sqlite.Database;
 * await using db = await openTestDatabase({
 *   driver: (path) => fromBetterSqlite3(sqlite = new Sqlite(path)),
 * });
 * const orm = drizzle(sqlite);
 * ```
 */
export async function openTestDatabase(
  options: OpenTestDatabaseOptions = {},
): Promise<TestDatabase> {
  const { driver, name = "test.db", ...databaseOptions } = checkTestOptions(options);
  const directory = await mkdtemp(join(tmpdir(), "honker-ts-test-"));
  const path = join(directory, name);
  let opened: SqliteDriver | undefined;
  try {
    let db: Database;
    if (typeof driver === "function") {
      opened = await driver(path);
      db = fromDriver(opened, databaseOptions);
    } else {
      db = await open(path, { ...databaseOptions, driver });
    }
    return withCleanup(db, directory, opened);
  } catch (error) {
    opened?.close();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

function checkTestOptions(options: OpenTestDatabaseOptions): OpenTestDatabaseOptions {
  const action = "open a test database";
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${action}: options must be an object`);
  }
  const { driver, name } = options;
  if (
    name !== undefined &&
    (typeof name !== "string" || name === "" || /[\\/]/.test(name) || name === ":memory:" ||
      name === "." || name === "..")
  ) {
    throw new TypeError(`Cannot ${action}: name must be a plain file name (got ${String(name)})`);
  }
  if (driver !== undefined && typeof driver !== "string" && typeof driver !== "function") {
    throw new TypeError(
      `Cannot ${action}: driver must be an adapter's name or a function opening one on a path`,
    );
  }
  return options;
}

/** Makes `db.close()` also close the driver opened for it and remove its directory. */
function withCleanup(
  db: Database,
  directory: string,
  driver: SqliteDriver | undefined,
): TestDatabase {
  const closeDatabase = db.close.bind(db);
  let removed = false;
  const close = (): void => {
    closeDatabase(); // Throws while a transaction callback runs: nothing is removed then.
    if (removed) return;
    removed = true;
    // The last connection to close checkpoints the WAL and deletes -wal and -shm itself.
    driver?.close();
    rmSync(directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  };
  // Symbol.dispose and Symbol.asyncDispose call this.close(), so they clean up too.
  Object.defineProperties(db, {
    close: { value: close, configurable: true },
    directory: { value: directory, enumerable: true },
  });
  return db as TestDatabase;
}
