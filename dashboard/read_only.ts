/**
 * A read-only view of a honker file for the dashboard: a connection opened read-only (nothing
 * is created, bootstrapped, migrated or checkpointed, so the file and its `-wal` keep their
 * bytes) and the same cross-process watcher a Database has (`PRAGMA data_version` and
 * file-system events, which only read), so pages stay live without any write.
 *
 * @module
 */

import { existsSync, statSync } from "node:fs";
import type { SqliteDriver, WatchOptions } from "../mod.ts";
import { requireOptions } from "../core/db/validate.ts";
import { changeHints } from "../core/wait/change_hints.ts";
import { Waker } from "../core/wait/waker.ts";
import { runtimeKey } from "../platform/runtime.ts";
import { startWatcher } from "../wake/watcher.ts";
import { WATCH_OPTION_KEYS } from "../wake/watch_options.ts";
import { TABLES } from "./sql.ts";

/** A honker file opened read-only, with change hints from every process's commits. */
export class ReadOnlyDatabase {
  /** The read-only connection. */
  readonly driver: SqliteDriver;
  readonly #waker = new Waker();
  #closed = false;

  /** @internal Use `openReadOnly()`. */
  constructor(driver: SqliteDriver, options: WatchOptions) {
    this.driver = driver;
    startWatcher(this.#waker, driver, options);
  }

  /** The file's path. */
  get path(): string {
    return this.driver.path;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Yields a hint each time something may have been committed to the file by any process, as
   * `db.updates()` does. Ends on abort, `return()` or `close()`.
   *
   * @example Re-read on every commit
   * ```ts ignore
   * for await (const _ of view.updates({ signal })) render(view.driver);
   * ```
   */
  updates(options?: { signal?: AbortSignal }): AsyncIterableIterator<number> {
    const action = "watch for updates";
    if (this.#closed) throw new TypeError(`Cannot ${action}: the read-only database is closed`);
    return changeHints(this.#waker, requireOptions(options, action, ["signal"]).signal);
  }

  /** Stops the watcher and closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waker.close();
    this.driver.close();
  }
}

async function openDriver(path: string): Promise<SqliteDriver> {
  if (runtimeKey() === "bun") {
    const { openBunSqlite } = await import("../adapters/bun_sqlite.ts");
    return await openBunSqlite(path, { readOnly: true });
  }
  const { openNodeSqlite } = await import("../adapters/node_sqlite.ts");
  return await openNodeSqlite(path, { readOnly: true });
}

/**
 * Opens an existing honker file read-only, for `dashboard()` without actions: it never changes
 * the file, and it reads files written by honker's own bindings as they are.
 *
 * @param path The database file; it must exist and have honker's tables.
 * @param options How other processes' commits are noticed (`wake`, `pollIntervalMs`, …).
 * @returns The read-only view; close it when done.
 * @throws {TypeError} For a missing path, a file that is not a honker database, an unknown option.
 *
 * @example A read-only dashboard
 * ```ts ignore
 * import { dashboard, openReadOnly } from "honker-ts/dashboard";
 *
 * const view = await openReadOnly("app.db");
 * Deno.serve({ hostname: "127.0.0.1", port: 7070 }, dashboard(view));
 * ```
 */
export async function openReadOnly(
  path: string,
  options: WatchOptions = {},
): Promise<ReadOnlyDatabase> {
  const action = `open "${path}" read-only`;
  requireOptions(options, action, WATCH_OPTION_KEYS);
  if (typeof path !== "string" || path === "" || !existsSync(path) || !statSync(path).isFile()) {
    throw new TypeError(`Cannot ${action}: no such file`);
  }
  const driver = await openDriver(path);
  try {
    const tables = driver.all<{ name: string }>(TABLES);
    if (!tables.some((t) => t.name.startsWith("_honker_"))) {
      throw new TypeError(`Cannot ${action}: not a honker database (no _honker_* tables)`);
    }
    return new ReadOnlyDatabase(driver, options);
  } catch (error) {
    driver.close();
    throw error;
  }
}
