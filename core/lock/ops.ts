/**
 * Named-lock operations over a bare driver, shared by the `Lock` API, the scheduler's
 * lease and honker's `honker_lock_*` SQL functions.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { LOCK_DELETE, LOCK_DELETE_EXPIRED, LOCK_GET, LOCK_INSERT, LOCK_RENEW } from "./sql.ts";

/** A `_honker_locks` row as stored. */
export interface LockRow {
  [column: string]: string | number;
  owner: string;
  expires_at: number;
}

/**
 * `honker_lock_acquire`: drops the lock if it expired, takes it if free, and returns its row
 * afterwards; the lock is `owner`'s when the row's owner is. Three statements: run it inside a
 * transaction (or an SQL function call).
 */
export function acquireLock(
  driver: SqliteDriver,
  name: string,
  owner: string,
  ttlS: number,
): LockRow | undefined {
  driver.run(LOCK_DELETE_EXPIRED, [name]);
  driver.run(LOCK_INSERT, [name, owner, ttlS]);
  return driver.get<LockRow>(LOCK_GET, [name]);
}

/** `honker_lock_release`: 1 when `owner`'s lock was deleted, else 0. */
export function releaseLock(driver: SqliteDriver, name: string, owner: string): number {
  return driver.run(LOCK_DELETE, [name, owner]).changes;
}

/** `honker_lock_renew`: the new `expires_at`, or undefined when `owner` does not hold the lock. */
export function renewLock(
  driver: SqliteDriver,
  name: string,
  owner: string,
  ttlS: number,
): number | undefined {
  return driver.get<{ expires_at: number }>(LOCK_RENEW, [ttlS, name, owner])?.expires_at;
}
