/**
 * What a Database hands to the objects it creates (queues, jobs): its connection, its
 * transaction runner, and the checks every operation starts with. Private to `core/`.
 *
 * @module
 */

import type { SqliteDriver } from "./driver.ts";
import type { Transaction, TransactionRunner } from "./transaction.ts";
import type { Waker } from "../wait/waker.ts";

/** @internal The shared state of one open Database. */
export interface DatabaseContext {
  /** The connection; use `open()` to get it with the closed check. */
  readonly transactions: TransactionRunner;
  /**
   * Returns the driver for a call the application makes (it waits up to the database's
   * `busyTimeoutMs` for the write lock), or throws DatabaseClosedError naming the action.
   */
  open(action: string): SqliteDriver;
  /**
   * Runs a write honker-ts makes on its own (work()'s claims and acks, heartbeats, offset saves,
   * lease renewals, maintenance) with a busy timeout of BACKGROUND_BUSY_TIMEOUT_MS, so a busy
   * database never stops the event loop for long. The short timeout stays set afterwards; the
   * application's next call (`open()`, or a statement on `db.driver`) gives it back first, so an
   * application sharing the connection never inherits the short one and back-to-back background
   * writes pay no PRAGMA. A SqliteError that `isTransientSqliteError()` accepts means "try again later".
   * A background write made inside another (work()'s batch) simply joins it.
   */
  background<T>(action: string, write: (driver: SqliteDriver) => T): T;
  /**
   * Runs `read`, a read honker-ts makes on its own (work()'s run options of claimed jobs),
   * under whatever busy timeout the connection has, so that it costs no PRAGMA between two
   * background writes; a busy error under the short one is retried once under the
   * application's. Throws DatabaseClosedError naming the action.
   */
  read<T>(action: string, read: (driver: SqliteDriver) => T): T;
  /**
   * Runs `write` as the application's own call (`open()`), or as a background write when
   * `background` is true: the one place that choice is spelled.
   */
  write<T>(action: string, write: (driver: SqliteDriver) => T, background: boolean): T;
  /**
   * Checks a `{ tx }` option: it must be the transaction open on this database right now.
   * Returns the driver.
   */
  joinTx(tx: Transaction | undefined, action: string): SqliteDriver;
  /**
   * Called after a write this process committed (or will commit), to wake local waiters. A
   * `"quiet"` write (a claim, an ack, a fail) can never make anything a waiter looks for
   * appear, so it wakes only `db.updates()`, not the loops waiting for jobs, events or locks.
   */
  wrote(kind?: "quiet"): void;
  /** Where waiting APIs park until something may have changed. */
  readonly waker: Waker;
}
