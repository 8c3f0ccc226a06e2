/**
 * The Database: one connection to a honker file, its schema, its transactions, and the queues
 * (later streams, schedules, locks) that live in it.
 *
 * @module
 */

import type { DatabaseContext } from "./_context.ts";
import type { SqliteDriver } from "./driver.ts";
import { DatabaseClosedError } from "./errors.ts";
import { Queue } from "./queue.ts";
import type { QueueOptions } from "./queue.ts";
import { applyPragmas, bootstrapSchema, checkSupported } from "./schema.ts";
import { registerSqlFunctions } from "./sql_functions.ts";
import type { Transaction } from "./transaction.ts";
import { TransactionRunner } from "./transaction.ts";

/** Options shared by `open()` and `fromDriver()`. */
export interface DatabaseOptions {
  /**
   * Register honker's SQL functions (`honker_enqueue`, `honker_claim_batch`, …) on the
   * connection. Defaults to true; turn off for a connection that also loads honker's extension.
   */
  sqlFunctions?: boolean;
}

/** @internal How `fromDriver` and `open` build a Database. */
export interface DatabaseInit extends DatabaseOptions {
  /** Whether `close()` closes the driver too (true when honker-ts opened it). */
  ownsDriver: boolean;
}

/**
 * An open honker database. Get one from `open()` or `fromDriver()`.
 *
 * @example Open, enqueue, close
 * ```ts ignore
 * import { open } from "honker-ts";
 *
 * await using db = await open("app.db");
 * db.queue("emails").enqueue({ to: "a@example.com" });
 * ```
 */
export class Database {
  /** The connection every operation runs on. */
  readonly driver: SqliteDriver;
  #transactions: TransactionRunner;
  #ownsDriver: boolean;
  #closed = false;
  #ctx: DatabaseContext;

  /** @internal Use `open()` or `fromDriver()`. */
  constructor(driver: SqliteDriver, init: DatabaseInit) {
    checkSupported(driver);
    applyPragmas(driver);
    bootstrapSchema(driver);
    if (init.sqlFunctions ?? true) registerSqlFunctions(driver);
    this.driver = driver;
    this.#ownsDriver = init.ownsDriver;
    this.#transactions = new TransactionRunner(driver);
    this.#ctx = this.#context();
  }

  #context(): DatabaseContext {
    const open = (action: string): SqliteDriver => {
      if (this.#closed) throw new DatabaseClosedError(action);
      return this.driver;
    };
    return {
      transactions: this.#transactions,
      open,
      joinTx: (tx, action) => {
        const driver = open(action);
        if (tx !== undefined && tx !== this.#transactions.current) {
          throw new TypeError(
            `Cannot ${action}: the { tx } given is not the transaction open on this database ` +
              "(it has finished, or belongs to another Database)",
          );
        }
        return driver;
      },
      wrote: () => {},
    };
  }

  /** The database file path. */
  get path(): string {
    return this.driver.path;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * A handle on the named queue. Handles are cheap; options apply to this handle only.
   *
   * @example A queue with a short visibility timeout
   * ```ts ignore
   * const thumbnails = db.queue<{ imageId: number }>("thumbnails", { visibilityTimeoutS: 30 });
   * ```
   */
  queue<T = unknown>(name: string, options?: QueueOptions): Queue<T> {
    this.#ctx.open(`open queue ${JSON.stringify(name)}`);
    return new Queue<T>(this.#ctx, name, options);
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` and returns its result; rolls back if it throws.
   * `fn` must be synchronous. Pass the transaction as `{ tx }` to enqueue atomically with your
   * own writes.
   *
   * @throws {TypeError} When `fn` returns a Promise (the transaction is rolled back).
   * @throws {Error} When a transaction is already open on this database.
   *
   * @example Business write and job commit together
   * ```ts ignore
   * db.transaction((tx) => {
   *   tx.run("INSERT INTO orders (id) VALUES (?)", [42]);
   *   db.queue("emails").enqueue({ orderId: 42 }, { tx });
   * });
   * ```
   */
  transaction<T>(fn: (tx: Transaction) => T): T {
    this.#ctx.open("start a transaction");
    const result = this.#transactions.run(fn);
    this.#ctx.wrote();
    return result;
  }

  /** Closes the database. Idempotent; every later call throws DatabaseClosedError. */
  close(): void {
    if (this.#closed) return;
    if (this.#transactions.current) {
      throw new Error("Cannot close the database: a transaction callback is still running");
    }
    this.#closed = true;
    if (this.#ownsDriver) this.driver.close();
  }

  /** Closes the database at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the database at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Builds a Database on a driver the caller already has: the application's own connection, so
 * that business writes and queue writes commit in one transaction. The caller keeps ownership:
 * `db.close()` does not close the driver.
 *
 * @param driver A connection from one of the adapters.
 * @param options Whether to register honker's SQL functions.
 * @returns The Database, schema bootstrapped.
 * @throws {UnsupportedDatabaseError} For an in-memory database, SQLite older than 3.38, or a
 * database that cannot be put into WAL mode.
 *
 * @example Share a node:sqlite connection
 * ```ts ignore
 * import { DatabaseSync } from "node:sqlite";
 * import { fromDriver } from "honker-ts";
 * import { fromNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * const handle = new DatabaseSync("app.db");
 * const db = fromDriver(fromNodeSqlite(handle, { path: "app.db" }));
 * ```
 */
export function fromDriver(driver: SqliteDriver, options: DatabaseOptions = {}): Database {
  return new Database(driver, { ...options, ownsDriver: false });
}
