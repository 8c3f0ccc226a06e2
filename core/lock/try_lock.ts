/**
 * One attempt to take a named lock, and the options every way of taking one shares:
 * who takes it (`owner`) and for how long (`ttlS`).
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { requireCount, requireName, requireOptions } from "../db/validate.ts";
import { Lock, LOCK_TTL_DEFAULT_S, lockAction } from "./lock.ts";
import { acquireLock } from "./ops.ts";
import type { LockRow } from "./ops.ts";
import { LOCK_GET_LIVE } from "./sql.ts";

/** Options for `tryLock()`, and the part of `withLock()`'s options that says who takes what. */
export interface LockOptions {
  /**
   * Who holds the lock. Defaults to a random UUID, a new owner for every call: give one to
   * take a lock again as the same owner (from another process, say), which succeeds while it
   * is held.
   */
  owner?: string;
  /**
   * Seconds the lock lasts, whole, at least 1. Defaults to 60. honker stores whole seconds, so a
   * lock taken or renewed lasts between ttlS − 1 and ttlS seconds.
   */
  ttlS?: number;
}

/** Every key of `LockOptions`. */
export const LOCK_OPTION_KEYS: readonly (keyof LockOptions)[] = ["owner", "ttlS"];

/** Checks `owner` and `ttlS`, filling in their defaults. */
export function lockOwnerAndTtl(
  options: LockOptions,
  action: string,
): { owner: string; ttlS: number } {
  return {
    owner: requireName(options.owner ?? crypto.randomUUID(), "owner", action),
    ttlS: requireCount(options.ttlS ?? LOCK_TTL_DEFAULT_S, "ttlS", action),
  };
}

/**
 * One attempt to take the lock; returns the lock's row afterwards, which is `owner`'s when it
 * worked. A live lock is read without writing: honker's acquire would change nothing then, and
 * a waiter woken by every commit must not take SQLite's write lock each time.
 */
export function attemptLock(
  ctx: DatabaseContext,
  wanted: { name: string; owner: string; ttlS: number },
  action: string,
  background = false,
): LockRow {
  const { name, owner, ttlS } = wanted;
  const take = (driver: SqliteDriver): LockRow | undefined =>
    driver.get<LockRow>(LOCK_GET_LIVE, [name]) ??
      ctx.transactions.atomic(() => acquireLock(driver, name, owner, ttlS));
  const row = ctx.write(action, take, background);
  if (!row) throw new Error(`Cannot ${action}: its row vanished inside the transaction`);
  if (row.owner === owner) ctx.wrote();
  return row;
}

/**
 * Takes a lock if nobody else holds it, as a background write (a busy database throws a
 * transient SqliteError): the attempt a leader loop makes on its own.
 */
export function tryLockInBackground(
  ctx: DatabaseContext,
  name: string,
  owner: string,
  ttlS: number,
): Lock | null {
  const row = attemptLock(ctx, { name, owner, ttlS }, lockAction("take", name), true);
  return row.owner === owner ? new Lock(ctx, name, owner, ttlS, row.expires_at) : null;
}

/** Takes a lock if nobody else holds it; see `Database.tryLock()`. */
export function tryLock(ctx: DatabaseContext, name: string, options?: LockOptions): Lock | null {
  const action = lockAction("take", name);
  requireName(name, "the lock name", action);
  const { owner, ttlS } = lockOwnerAndTtl(
    requireOptions(options, action, LOCK_OPTION_KEYS),
    action,
  );
  const row = attemptLock(ctx, { name, owner, ttlS }, action);
  return row.owner === owner ? new Lock(ctx, name, owner, ttlS, row.expires_at) : null;
}
