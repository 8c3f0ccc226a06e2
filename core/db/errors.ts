/**
 * The error classes callers catch. Bad arguments are plain TypeError / RangeError.
 *
 * @module
 */

/**
 * Thrown by any call on a Database (or a Queue, Job or Transaction of it) after `close()`.
 *
 * @example Detect a closed database
 * ```ts ignore
 * try {
 *   queue.enqueue({ n: 1 });
 * } catch (error) {
 *   if (error instanceof DatabaseClosedError) console.log("shutting down");
 * }
 * ```
 */
export class DatabaseClosedError extends Error {
  /** Creates the error for the action that was attempted. */
  constructor(action: string) {
    super(`Cannot ${action}: the database is closed`);
    this.name = "DatabaseClosedError";
  }
}

/**
 * Thrown when a database cannot be used by honker-ts: SQLite too old, WAL impossible, or an
 * in-memory database.
 *
 * @example Refused database
 * ```ts ignore
 * await open(":memory:"); // throws UnsupportedDatabaseError
 * ```
 */
export class UnsupportedDatabaseError extends Error {
  /** Creates the error with the reason the database was refused. */
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedDatabaseError";
  }
}

/**
 * Raised to waiters when the change watcher can no longer see commits: the database file was
 * replaced under it (rename-over, restore) or vanished. Wait loops then fall back to polling
 * on their own timeouts; reopen the database to get wake-ups back.
 *
 * @example Notice the fallback
 * ```ts ignore
 * try {
 *   for await (const _ of db.updates()) refresh();
 * } catch (error) {
 *   if (error instanceof WatcherDiedError) console.warn(error.message);
 * }
 * ```
 */
export class WatcherDiedError extends Error {
  /** Creates the error with what the watcher saw. */
  constructor(message: string) {
    super(message);
    this.name = "WatcherDiedError";
  }
}

/**
 * Thrown by `withLock()` when the named lock is still held by another owner after `waitMs`.
 *
 * @example Give up after a second
 * ```ts ignore
 * try {
 *   await db.withLock("nightly-report", build, { waitMs: 1000 });
 * } catch (error) {
 *   if (error instanceof LockHeldError) console.log(`busy: held by ${error.holder}`);
 * }
 * ```
 */
export class LockHeldError extends Error {
  /** The lock's name. */
  readonly lockName: string;
  /** The owner holding it when waiting ended. */
  readonly holder: string;
  /** How long `withLock()` waited, in milliseconds (its `waitMs`). */
  readonly waitMs: number;

  /** Creates the error for a lock still held after waiting `waitMs` milliseconds. */
  constructor(lockName: string, holder: string, waitMs: number) {
    super(
      `Cannot take lock ${JSON.stringify(lockName)}: it is still held by ` +
        `${JSON.stringify(holder)} after waiting ${waitMs} ms`,
    );
    this.name = "LockHeldError";
    this.lockName = lockName;
    this.holder = holder;
    this.waitMs = waitMs;
  }
}

/** SQLite's primary result codes by number, for `SqliteError.code`. */
const SQLITE_CODE_NAMES: Readonly<Record<number, string>> = {
  1: "SQLITE_ERROR",
  2: "SQLITE_INTERNAL",
  3: "SQLITE_PERM",
  4: "SQLITE_ABORT",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  9: "SQLITE_INTERRUPT",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  12: "SQLITE_NOTFOUND",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  15: "SQLITE_PROTOCOL",
  16: "SQLITE_EMPTY",
  17: "SQLITE_SCHEMA",
  18: "SQLITE_TOOBIG",
  19: "SQLITE_CONSTRAINT",
  20: "SQLITE_MISMATCH",
  21: "SQLITE_MISUSE",
  22: "SQLITE_NOLFS",
  23: "SQLITE_AUTH",
  24: "SQLITE_FORMAT",
  25: "SQLITE_RANGE",
  26: "SQLITE_NOTADB",
};

/** SQLite's result code for a database another connection (or transaction) keeps busy. */
export const SQLITE_BUSY = 5;

/** The name of an (extended) SQLite result code's primary code, such as `"SQLITE_BUSY"`. */
export function sqliteCodeName(resultCode: number): string {
  return SQLITE_CODE_NAMES[resultCode & 0xff] ?? `SQLITE_UNKNOWN_${resultCode}`;
}

/**
 * An error SQLite reported, thrown by every adapter in the same shape whatever the binding:
 * `code` is the primary result code's name and `resultCode` the (extended) number, so callers
 * can tell a busy database from a constraint or a corrupt file without parsing messages.
 *
 * @example Tell a busy database apart
 * ```ts ignore
 * try {
 *   queue.enqueue({ n: 1 });
 * } catch (error) {
 *   if (error instanceof SqliteError && error.code === "SQLITE_BUSY") retryLater();
 * }
 * ```
 */
export class SqliteError extends Error {
  /** The primary result code's name: `"SQLITE_BUSY"`, `"SQLITE_CONSTRAINT"`, … */
  readonly code: string;
  /** SQLite's result code as a number, extended when the binding reports it (e.g. 517). */
  readonly resultCode: number;

  /** Creates the error from SQLite's message and result code. */
  constructor(message: string, resultCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SqliteError";
    this.resultCode = resultCode;
    this.code = sqliteCodeName(resultCode);
  }

  /** Whether waiting and trying again can succeed: the database was busy or a table locked. */
  get transient(): boolean {
    return this.code === "SQLITE_BUSY" || this.code === "SQLITE_LOCKED";
  }
}

/**
 * Whether `error` is a transient SQLite condition (SQLITE_BUSY, SQLITE_LOCKED) that a
 * background loop should retry after a pause instead of ending on.
 */
export function isTransientSqliteError(error: unknown): boolean {
  return error instanceof SqliteError && error.transient;
}
