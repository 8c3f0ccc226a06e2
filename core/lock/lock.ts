/**
 * Named locks: a `_honker_locks` row held by one owner until it expires, respected by
 * every process and binding on the file. Advisory and TTL-based: a holder that stops renewing
 * loses the lock once `expires_at` passes, and the next taker replaces it. This file holds the
 * handle on a lock taken; `try_lock.ts` and `with_lock.ts` take them.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { requireCount } from "../db/validate.ts";
import { releaseLock, renewLock } from "./ops.ts";

/** Default lifetime of a lock, in seconds, between renewals: 60 s, as honker's scheduler lock. */
export const LOCK_TTL_DEFAULT_S = 60;

/** The action a lock error names: `take lock "nightly"`. */
export function lockAction(verb: string, name: unknown): string {
  return `${verb} lock ${JSON.stringify(name)}`;
}

/**
 * A named lock held by `owner`. Until `expiresAt` no other owner can take it; renew it with
 * `heartbeat()` and give it up with `release()` (or a `using` block).
 *
 * @example Hold a lock for one block
 * ```ts ignore
 * using lock = db.tryLock("nightly-report", { ttlS: 300 });
 * if (lock) await buildReport();
 * ```
 */
export class Lock {
  /** The lock's name. */
  readonly name: string;
  /** Who holds it. */
  readonly owner: string;
  /** Seconds it was taken for; `heartbeat()` renews by this much by default. */
  readonly ttlS: number;
  #expiresAt: number;
  #released = false;
  #ctx: DatabaseContext;

  /** @internal Made by `tryLock()` and `withLock()`. */
  constructor(ctx: DatabaseContext, name: string, owner: string, ttlS: number, expiresAt: number) {
    this.#ctx = ctx;
    this.name = name;
    this.owner = owner;
    this.ttlS = ttlS;
    this.#expiresAt = expiresAt;
  }

  /** Unix seconds the lock lasts until: from then on, anyone may take it over. */
  get expiresAt(): number {
    return this.#expiresAt;
  }

  /** Whether `release()` was called on this handle. */
  get released(): boolean {
    return this.#released;
  }

  /**
   * Gives the lock up. Returns false when this owner no longer held it (another owner took it
   * over after it expired) or when this handle was already released.
   */
  release(): boolean {
    if (this.#released) return false;
    const driver = this.#ctx.open(lockAction("release", this.name));
    const done = releaseLock(driver, this.name, this.owner) > 0;
    this.#released = true;
    if (done) this.#ctx.wrote();
    return done;
  }

  /**
   * Extends the lock to `ttlS` seconds from now. Returns false when this owner no longer holds
   * it, or after `release()`. As in honker, an expired lock nobody has taken yet is revived.
   */
  heartbeat(ttlS: number = this.ttlS): boolean {
    return this.#renew(ttlS, false);
  }

  /**
   * @internal The renewal `withLock()` makes on its own: a background write that throws a
   * transient SqliteError instead of blocking while another process holds the write lock.
   */
  renewInBackground(): boolean {
    return this.#renew(this.ttlS, true);
  }

  #renew(ttlS: number, background: boolean): boolean {
    const action = lockAction("renew", this.name);
    requireCount(ttlS, "ttlS", action);
    if (this.#released) return false;
    const renew = (driver: SqliteDriver) => renewLock(driver, this.name, this.owner, ttlS);
    const expiresAt = this.#ctx.write(action, renew, background);
    if (expiresAt === undefined) return false;
    this.#expiresAt = expiresAt;
    return true;
  }

  /** Releases the lock at the end of a `using` block (unless already released). */
  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }
}
