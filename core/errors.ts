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
 * Thrown by `withLock()` when the named lock is still held by another owner after `waitS`.
 *
 * @example Give up after a second
 * ```ts ignore
 * try {
 *   await db.withLock("nightly-report", build, { waitS: 1 });
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

  /** Creates the error for a lock still held after waiting `waitS` seconds. */
  constructor(lockName: string, holder: string, waitS: number) {
    super(
      `Cannot take lock ${JSON.stringify(lockName)}: it is still held by ` +
        `${JSON.stringify(holder)} after waiting ${waitS} s`,
    );
    this.name = "LockHeldError";
    this.lockName = lockName;
    this.holder = holder;
  }
}
