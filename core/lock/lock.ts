/**
 * Named locks (spec §6.1): a `_honker_locks` row held by one owner until it expires, respected by
 * every process and binding on the file. Advisory and TTL-based: a holder that stops renewing
 * loses the lock once `expires_at` passes, and the next taker replaces it.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { DatabaseClosedError, LockHeldError } from "../db/errors.ts";
import {
  LOCK_DELETE,
  LOCK_DELETE_EXPIRED,
  LOCK_GET,
  LOCK_GET_LIVE,
  LOCK_INSERT,
  LOCK_RENEW,
} from "./sql.ts";
import { requireCount, requireName, requireOptions } from "../db/validate.ts";
import { SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";

/** Default lifetime of a `withLock()` lock between renewals: 60 s, as honker's scheduler lock. */
export const LOCK_TTL_DEFAULT_S = 60;

/** A `_honker_locks` row as stored. */
export interface LockRow {
  [column: string]: string | number;
  owner: string;
  expires_at: number;
}

/** What `withLock()` hands its callback besides the lock. */
export interface LockContext {
  /** Aborts when a renewal is refused (the lock was lost) or when `options.signal` aborts. */
  signal: AbortSignal;
}

/** Options for `withLock()`. */
export interface WithLockOptions {
  /** Who holds the lock. Defaults to a random UUID, a new owner for every call. */
  owner?: string;
  /**
   * Seconds the lock lasts; renewed every ttlS / 3 while the callback runs. Defaults to 60.
   * honker stores whole seconds, so a renewed lock lasts between ttlS − 1 and ttlS seconds: use
   * at least 2 here, as a 1 s lock can lapse right after a renewal.
   */
  ttlS?: number;
  /** Seconds to wait for the lock before rejecting with LockHeldError. Defaults to Infinity. */
  waitS?: number;
  /** Stops waiting, rejecting with its reason; while the callback runs, passed on to it. */
  signal?: AbortSignal;
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

function lockAction(verb: string, name: unknown): string {
  return `${verb} lock ${JSON.stringify(name)}`;
}

/**
 * A named lock held by `owner`. Until `expiresAt` no other owner can take it; renew it with
 * `heartbeat()` and give it up with `release()` (or a `using` block).
 *
 * @example Hold a lock for one block
 * ```ts ignore
 * using lock = db.tryLock("nightly-report", "worker-1", 300);
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
    const expiresAt = background
      ? this.#ctx.background(action, renew)
      : renew(this.#ctx.open(action));
    if (expiresAt === undefined) return false;
    this.#expiresAt = expiresAt;
    return true;
  }

  /** Releases the lock at the end of a `using` block (unless already released). */
  [Symbol.dispose](): void {
    if (!this.#released) this.release();
  }
}

/**
 * One attempt to take the lock; returns the lock's row afterwards, which is `owner`'s when it
 * worked. A live lock is read without writing: honker's acquire would change nothing then, and
 * a waiter woken by every commit must not take SQLite's write lock each time.
 */
function attempt(
  ctx: DatabaseContext,
  name: string,
  owner: string,
  ttlS: number,
  action: string,
  background = false,
): LockRow {
  const take = (driver: SqliteDriver): LockRow | undefined =>
    driver.get<LockRow>(LOCK_GET_LIVE, [name]) ??
      ctx.transactions.atomic(() => acquireLock(driver, name, owner, ttlS));
  const row = background ? ctx.background(action, take) : take(ctx.open(action));
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
  const row = attempt(ctx, name, owner, ttlS, lockAction("take", name), true);
  return row.owner === owner ? new Lock(ctx, name, owner, ttlS, row.expires_at) : null;
}

/** Takes a lock if nobody else holds it; see `Database.tryLock()`. */
export function tryLock(
  ctx: DatabaseContext,
  name: string,
  owner: string,
  ttlS: number,
): Lock | null {
  const action = lockAction("take", name);
  requireName(name, "the lock name", action);
  requireName(owner, "owner", action);
  requireCount(ttlS, "ttlS", action);
  const row = attempt(ctx, name, owner, ttlS, action);
  return row.owner === owner ? new Lock(ctx, name, owner, ttlS, row.expires_at) : null;
}

function requireWaitS(value: unknown, action: string): number {
  if (value === undefined) return Infinity;
  if (typeof value !== "number") {
    throw new TypeError(`Cannot ${action}: waitS must be a number of seconds, got ${typeof value}`);
  }
  if (!(value >= 0)) {
    throw new RangeError(
      `Cannot ${action}: waitS must be a non-negative number of seconds or Infinity, got ${value}`,
    );
  }
  return value;
}

/**
 * Waits for the lock. Between attempts it sleeps until a commit (a release is one), or until
 * just after the holder's `expires_at`: a holder that dies lets its lock lapse without any
 * commit to wake us.
 */
async function waitForLock(
  ctx: DatabaseContext,
  wanted: { name: string; owner: string; ttlS: number; waitS: number; action: string },
  signal: AbortSignal | undefined,
): Promise<Lock> {
  const { name, owner, ttlS, waitS, action } = wanted;
  const deadline = Date.now() + waitS * 1000;
  let sleepMs = 0;
  const lock = await waitLoop(ctx.waker, () => {
    // A background write: a busy database is retried by the loop, never blocking for long.
    const row = attempt(ctx, name, owner, ttlS, action, true);
    if (row.owner === owner) return new Lock(ctx, name, owner, ttlS, row.expires_at);
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) throw new LockHeldError(name, row.owner, waitS);
    sleepMs = Math.min(row.expires_at * 1000 + 1000 - Date.now(), leftMs);
    return undefined;
  }, { signal, sleepMs: () => sleepMs });
  if (lock) return lock;
  signal?.throwIfAborted();
  throw new DatabaseClosedError(action);
}

/** Runs `fn` while renewing the lock, then releases it; `fn`'s own error wins over release's. */
async function holdWhile<T>(
  lock: Lock,
  fn: (lock: Lock, context: LockContext) => T | Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  const held = new AbortController();
  const onAbort = () => held.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener("abort", onAbort, { once: true });
  // Capped so that a huge ttlS cannot overflow the timer, and a suspended machine renews soon.
  const renewal = setInterval(() => {
    let kept = false;
    try {
      kept = lock.renewInBackground();
    } catch (error) {
      // A busy database: try again at the next beat. A closed one: the lock simply lapses.
      if (!(error instanceof DatabaseClosedError)) return;
    }
    if (kept) return;
    clearInterval(renewal);
    if (lock.released) return; // The callback gave the lock up itself.
    const lost = `owner ${JSON.stringify(lock.owner)} no longer holds it`;
    held.abort(new Error(`Cannot ${lockAction("renew", lock.name)}: ${lost}`));
  }, Math.min((lock.ttlS * 1000) / 3, SLEEP_CAP_MS));
  const stop = () => {
    clearInterval(renewal);
    signal?.removeEventListener("abort", onAbort);
  };
  let result: T;
  try {
    result = await fn(lock, { signal: held.signal });
  } catch (error) {
    stop();
    try {
      lock.release();
    } catch {
      // The callback's error is the one to report; an unreleased lock lapses at expires_at.
    }
    throw error;
  }
  stop();
  lock.release();
  return result;
}

/** Waits for a lock, runs `fn` holding it, releases it; see `Database.withLock()`. */
export async function withLock<T>(
  ctx: DatabaseContext,
  name: string,
  fn: (lock: Lock, context: LockContext) => T | Promise<T>,
  options?: WithLockOptions,
): Promise<T> {
  const action = lockAction("take", name);
  requireName(name, "the lock name", action);
  if (typeof fn !== "function") {
    throw new TypeError(`Cannot ${action}: the callback must be a function`);
  }
  const opts = requireOptions(options, action, ["owner", "ttlS", "waitS", "signal"]);
  const owner = requireName(opts.owner ?? crypto.randomUUID(), "owner", action);
  const ttlS = requireCount(opts.ttlS ?? LOCK_TTL_DEFAULT_S, "ttlS", action);
  const waitS = requireWaitS(opts.waitS, action);
  const lock = await waitForLock(ctx, { name, owner, ttlS, waitS, action }, opts.signal);
  return await holdWhile(lock, fn, opts.signal);
}
