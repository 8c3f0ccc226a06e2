/**
 * What stands behind one open Database: its connection set up (pragmas, schema, honker's SQL
 * functions), its transaction runner, waker, watcher and retention, and the DatabaseContext
 * every handle it creates runs on (the closed check, and the busy timeouts of the application's
 * calls and of honker-ts's own background writes). Private to `core/`.
 *
 * @module
 */

import type { DatabaseContext } from "./db/context.ts";
import type { SqliteDriver } from "./db/driver.ts";
import {
  DatabaseClosedError,
  isTransientSqliteError,
  SQLITE_BUSY,
  SqliteError,
} from "./db/errors.ts";
import { withSqlFunctions } from "./db/sql_functions_missing.ts";
import { observedDriver } from "./db/observed_driver.ts";
import type { Transaction } from "./db/transaction.ts";
import { TransactionRunner } from "./db/transaction.ts";
import { startMaintenance } from "./maintenance/maintenance.ts";
import { requireRetention } from "./maintenance/retention.ts";
import type { RetentionPolicy } from "./maintenance/retention.ts";
import { applyPragmas, bootstrapSchema, checkSupported } from "./schema/schema.ts";
import { Waker } from "./wait/waker.ts";
import type { DatabaseInit, WakeSource } from "./database_options.ts";
import { BACKGROUND_BUSY_TIMEOUT_MS, requireBusyTimeoutMs } from "./database_options.ts";

/**
 * What a background write meets while the application's own transaction is open on the shared
 * connection: "busy", so every loop waits it out as it waits out another process's write lock.
 */
function foreignTransactionOpen(action: string): SqliteError {
  return new SqliteError(
    `Cannot ${action} now: a transaction the application began is open on this connection; ` +
      "honker-ts's own writes wait until it ends",
    SQLITE_BUSY,
  );
}

/** @internal The connection of one open Database and the context its handles share. */
export class ConnectionState implements DatabaseContext {
  /**
   * The driver given, or, when honker's SQL functions could not be registered on it (or
   * `sqlFunctions: false`), that driver behind a wrapper whose "no such function" errors say why.
   */
  readonly driver: SqliteDriver;
  /**
   * `driver` as `db.driver` hands it out: each call first restores the foreground busy timeout,
   * which background writes leave at their short one (setting it back after each would cost two
   * PRAGMAs per claim and per ack batch).
   */
  readonly appDriver: SqliteDriver;
  readonly transactions: TransactionRunner;
  readonly waker: Waker = new Waker();
  readonly retention: RetentionPolicy;
  readonly #ownsDriver: boolean;
  readonly #foregroundBusyMs: number;
  readonly #watcher: { readonly source: Exclude<WakeSource, "local"> } | undefined;
  #closed = false;
  #busyTimeoutMs: number;
  /** True while a background write runs: calls made inside it keep its short busy timeout. */
  #inBackground = false;

  constructor(driver: SqliteDriver, init: DatabaseInit) {
    this.retention = requireRetention(init.retention, init.notificationRetention);
    const busyTimeoutMs = requireBusyTimeoutMs(init.busyTimeoutMs);
    checkSupported(driver);
    applyPragmas(driver, busyTimeoutMs);
    this.#busyTimeoutMs = this.#foregroundBusyMs = busyTimeoutMs;
    bootstrapSchema(driver);
    // Without honker's SQL functions, a trigger calling notify() fails with an error saying why.
    this.driver = withSqlFunctions(driver, init.sqlFunctions ?? true);
    this.appDriver = observedDriver(this.driver, () => {
      if (!this.#inBackground && !this.#closed) this.#useBusyTimeout(this.#foregroundBusyMs);
    });
    this.#ownsDriver = init.ownsDriver;
    this.transactions = new TransactionRunner(this.driver);
    if (this.retention.enabled) {
      const unref = init.unrefTimer ?? unrefTimerObject;
      const start = () => startMaintenance(this, this.retention, unref);
      this.waker.onFirstWait(() => this.waker.onClose(start()));
    }
    this.#watcher = init.startWatcher?.(this.waker, this.driver);
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** What notices other processes' commits; "local" means nothing does. */
  get wakeSource(): WakeSource {
    return this.#watcher?.source ?? "local";
  }

  /** Sets the connection's busy timeout, only when it changes (a PRAGMA costs a few µs). */
  #useBusyTimeout(ms: number): void {
    if (this.#busyTimeoutMs === ms) return;
    this.driver.exec(`PRAGMA busy_timeout = ${ms}`);
    this.#busyTimeoutMs = ms;
  }

  open(action: string): SqliteDriver {
    if (this.#closed) throw new DatabaseClosedError(action);
    if (!this.#inBackground) this.#useBusyTimeout(this.#foregroundBusyMs);
    return this.driver;
  }

  background<T>(action: string, write: (driver: SqliteDriver) => T): T {
    if (this.#closed) throw new DatabaseClosedError(action);
    if (this.#inBackground) return write(this.driver);
    // A write of our own must never join a transaction the application may still roll back
    // (an ack folded into it would be undone with it): wait until the connection is out of it,
    // as for another process's write lock.
    if (this.transactions.foreignOpen) throw foreignTransactionOpen(action);
    // On a connection honker-ts opened, the short timeout stays set afterwards: the next
    // foreground call (`open()`, `db.driver`) restores the application's, so that back-to-back
    // background writes pay no PRAGMA. On the application's own connection (fromDriver), its
    // ORM's statements reach the handle without passing through honker-ts: set it back now.
    this.#useBusyTimeout(BACKGROUND_BUSY_TIMEOUT_MS);
    this.#inBackground = true;
    try {
      return write(this.driver);
    } finally {
      this.#inBackground = false;
      if (!this.#ownsDriver && !this.#closed) this.#useBusyTimeout(this.#foregroundBusyMs);
    }
  }

  read<T>(action: string, read: (driver: SqliteDriver) => T): T {
    if (this.#closed) throw new DatabaseClosedError(action);
    try {
      return read(this.driver);
    } catch (error) {
      const short = this.#busyTimeoutMs !== this.#foregroundBusyMs;
      if (this.#inBackground || !short || !isTransientSqliteError(error)) throw error;
      return read(this.open(action));
    }
  }

  write<T>(action: string, write: (driver: SqliteDriver) => T, background: boolean): T {
    return background ? this.background(action, write) : write(this.open(action));
  }

  joinTx(tx: Transaction | undefined, action: string): SqliteDriver {
    const driver = this.open(action);
    if (tx !== undefined && tx !== this.transactions.current) {
      throw new TypeError(
        `Cannot ${action}: the { tx } given is not the transaction open on this database ` +
          "(it has finished, or belongs to another Database)",
      );
    }
    return driver;
  }

  wrote(kind?: "quiet"): void {
    this.waker.notifyLocal(kind);
  }

  /** Closes: every later call throws DatabaseClosedError. Idempotent. */
  close(): void {
    if (this.#closed) return;
    if (this.transactions.current) {
      throw new Error("Cannot close the database: a transaction callback is still running");
    }
    this.#closed = true;
    this.waker.close();
    if (this.#ownsDriver) this.driver.close();
  }
}

/** The runtime-neutral fallback: a timer that is an object with `unref()` (Node, Bun). */
function unrefTimerObject(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}
