/**
 * `BEGIN IMMEDIATE … COMMIT` around synchronous callbacks, with a nesting guard.
 *
 * Transactions take synchronous callbacks on purpose: every binding is synchronous, so a
 * transaction that never yields to the event loop cannot interleave with other work on the same
 * connection, and no mutex is needed.
 *
 * @module
 */

import type { Row, RunResult, SqliteDriver, SqlValue } from "./driver.ts";

/**
 * An open write transaction, handed to the callback of `db.transaction()`. Pass it as `{ tx }`
 * to queue, stream and notify operations so they commit or roll back with your own writes.
 *
 * @example Business write and job in one transaction
 * ```ts ignore
 * db.transaction((tx) => {
 *   tx.run("INSERT INTO orders (id, total) VALUES (?, ?)", [orderId, total]);
 *   emails.enqueue({ orderId }, { tx });
 * });
 * ```
 */
export class Transaction {
  #driver: SqliteDriver;
  #active = true;
  #onCommit: Array<() => void> = [];

  /** @internal Created by the Database only. */
  constructor(driver: SqliteDriver) {
    this.#driver = driver;
  }

  /** Whether the transaction is still open (its callback has not returned). */
  get active(): boolean {
    return this.#active;
  }

  /** @internal Marks the transaction finished; runs the commit callbacks if it committed. */
  finish(committed = false): void {
    this.#active = false;
    const callbacks = this.#onCommit.splice(0);
    if (committed) { for (const fn of callbacks) fn(); }
  }

  /** @internal Runs `fn` once the transaction has committed (never if it rolls back). */
  onCommit(fn: () => void): void {
    this.#onCommit.push(fn);
  }

  #check(action: string): SqliteDriver {
    if (!this.#active) {
      throw new Error(`Cannot ${action}: the transaction is already finished`);
    }
    return this.#driver;
  }

  /** Runs a statement of yours inside the transaction. */
  run(sql: string, params?: readonly SqlValue[]): RunResult {
    return this.#check("run a statement").run(sql, params);
  }

  /** Runs a query of yours inside the transaction and returns every row. */
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[] {
    return this.#check("run a query").all<T>(sql, params);
  }

  /** Runs a query of yours inside the transaction and returns the first row. */
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T | undefined {
    return this.#check("run a query").get<T>(sql, params);
  }

  /** Runs parameterless statements (DDL) inside the transaction. */
  exec(sql: string): void {
    this.#check("exec").exec(sql);
  }
}

function isPromiseLike(value: unknown): boolean {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

/** Returns what a transaction callback returned; a Promise means it was not synchronous. */
function refusePromise<T>(result: T): T {
  if (isPromiseLike(result)) {
    // Swallow the orphaned promise's rejection; the caller gets the TypeError instead.
    (result as unknown as Promise<unknown>).then(undefined, () => {});
    throw new TypeError(
      "Cannot commit the transaction: its callback returned a Promise; transaction " +
        "callbacks must be synchronous (an await would let other work interleave with an " +
        "open write transaction), so it was rolled back",
    );
  }
  return result;
}

/** The savepoint honker-ts opens inside a transaction someone else began on the connection. */
const SAVEPOINT = "honker_ts";

/**
 * Runs BEGIN IMMEDIATE … COMMIT on one connection and refuses nesting. When a transaction
 * someone else began is open on the connection (an ORM's transaction on a shared handle), it
 * joins it through a SAVEPOINT instead: the work commits or rolls back with the application's.
 */
export class TransactionRunner {
  #driver: SqliteDriver;
  #current: Transaction | null = null;
  #joined = false;

  /** Creates a runner for one connection. */
  constructor(driver: SqliteDriver) {
    this.#driver = driver;
  }

  /** The open transaction, if a callback is running. */
  get current(): Transaction | null {
    return this.#current;
  }

  /**
   * Whether a transaction honker-ts did not open is open on the connection: the application's
   * own (`BEGIN` through the shared handle, an ORM's transaction).
   */
  get foreignOpen(): boolean {
    return this.#current === null && this.#driver.inTransaction();
  }

  /**
   * Whether a write made now would end up in a transaction the application opened: its own, or
   * ours joined to it through a savepoint. Such a write is undone if the application rolls back.
   */
  get insideForeign(): boolean {
    return this.#current === null ? this.#driver.inTransaction() : this.#joined;
  }

  /**
   * Runs `fn` in a new transaction: commits when it returns, rolls back when it throws. Inside
   * a transaction the application opened on the connection, runs it in a savepoint of it.
   *
   * @throws {Error} When a transaction callback of this database is already running.
   * @throws {TypeError} When `fn` returns a Promise (after rolling back).
   */
  run<T>(fn: (tx: Transaction) => T): T {
    this.#checkCanStart(fn);
    const joined = this.#driver.inTransaction();
    const tx = this.#begin(joined);
    let result: T;
    try {
      result = refusePromise(fn(tx));
      this.#driver.exec(joined ? `RELEASE ${SAVEPOINT}` : "COMMIT");
    } catch (error) {
      this.#end();
      this.#rollbackQuietly(joined);
      throw error;
    }
    // In a joined transaction "committed" means released into the application's transaction.
    this.#end(true);
    return result;
  }

  /**
   * Runs `fn` atomically: inside the open transaction if there is one, else in its own.
   * Used by operations that issue more than one statement.
   */
  atomic<T>(fn: () => T): T {
    return this.#current ? fn() : this.run(fn);
  }

  /** Refuses a callback that is not a function, and a transaction inside one of ours. */
  #checkCanStart(fn: unknown): void {
    if (typeof fn !== "function") {
      throw new TypeError("Cannot start a transaction: the callback must be a function");
    }
    if (this.#current) {
      throw new Error(
        "Cannot start a transaction: one is already open on this database (nested transactions " +
          "are not supported; pass the open transaction as { tx } instead)",
      );
    }
  }

  /** Opens the transaction, or the savepoint when `joined` to one the application began. */
  #begin(joined: boolean): Transaction {
    const tx = new Transaction(this.#driver);
    this.#driver.exec(joined ? `SAVEPOINT ${SAVEPOINT}` : "BEGIN IMMEDIATE");
    this.#current = tx;
    this.#joined = joined;
    return tx;
  }

  #end(committed = false): void {
    const tx = this.#current;
    this.#current = null;
    this.#joined = false;
    tx?.finish(committed);
  }

  #rollbackQuietly(joined: boolean): void {
    try {
      if (joined) this.#driver.exec(`ROLLBACK TO ${SAVEPOINT}; RELEASE ${SAVEPOINT}`);
      else this.#driver.exec("ROLLBACK");
    } catch {
      // SQLite may already have rolled back on its own (for example after SQLITE_FULL).
    }
  }
}
