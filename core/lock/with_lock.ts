/**
 * `withLock()`: wait for a named lock, run a callback holding it while renewing it in the
 * background, release it after.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { DatabaseClosedError, LockHeldError } from "../db/errors.ts";
import { requireName, requireOptions, requireTimeoutMs } from "../db/validate.ts";
import { SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";
import { Lock, lockAction } from "./lock.ts";
import { attemptLock, LOCK_OPTION_KEYS, lockOwnerAndTtl } from "./try_lock.ts";
import type { LockOptions } from "./try_lock.ts";

/** What `withLock()` hands its callback besides the lock. */
export interface LockContext {
  /** Aborts when a renewal is refused (the lock was lost) or when `options.signal` aborts. */
  signal: AbortSignal;
}

/**
 * Options for `withLock()`. The lock is renewed every ttlS / 3 while the callback runs: with
 * whole seconds stored, a renewed lock lasts between ttlS − 1 and ttlS seconds, so use a `ttlS`
 * of at least 2 here, as a 1 s lock can lapse right after a renewal.
 */
export interface WithLockOptions extends LockOptions {
  /**
   * Milliseconds to wait for the lock before rejecting with LockHeldError: 0 up to 2^31 − 1, or
   * `Infinity` (the default) to wait as long as it takes.
   */
  waitMs?: number;
  /** Stops waiting, rejecting with its reason; while the callback runs, passed on to it. */
  signal?: AbortSignal;
}

/** Every key of `WithLockOptions`. */
export const WITH_LOCK_OPTION_KEYS: readonly (keyof WithLockOptions)[] = [
  ...LOCK_OPTION_KEYS,
  "waitMs",
  "signal",
];

/**
 * Waits for the lock. Between attempts it sleeps until a commit (a release is one), or until
 * just after the holder's `expires_at`: a holder that dies lets its lock lapse without any
 * commit to wake us.
 */
async function waitForLock(
  ctx: DatabaseContext,
  wanted: { name: string; owner: string; ttlS: number; waitMs: number; action: string },
  signal: AbortSignal | undefined,
): Promise<Lock> {
  const { name, owner, ttlS, waitMs, action } = wanted;
  const deadline = Date.now() + waitMs;
  let sleepMs = 0;
  const lock = await waitLoop(ctx.waker, () => {
    // A background write: a busy database is retried by the loop, never blocking for long.
    const row = attemptLock(ctx, wanted, action, true);
    if (row.owner === owner) return new Lock(ctx, name, owner, ttlS, row.expires_at);
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) throw new LockHeldError(name, row.owner, waitMs);
    sleepMs = Math.min(row.expires_at * 1000 + 1000 - Date.now(), leftMs);
    return undefined;
  }, { signal, sleepMs: () => sleepMs });
  if (lock) return lock;
  signal?.throwIfAborted();
  throw new DatabaseClosedError(action);
}

/**
 * Renews the lock every ttlS / 3 in the background until the returned function is called;
 * aborts `held` when a renewal is refused (the lock was lost).
 */
function keepRenewed(lock: Lock, held: AbortController): () => void {
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
  return () => clearInterval(renewal);
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
  const stopRenewing = keepRenewed(lock, held);
  const stop = () => {
    stopRenewing();
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
  const opts = requireOptions(options, action, WITH_LOCK_OPTION_KEYS);
  const { owner, ttlS } = lockOwnerAndTtl(opts, action);
  const waitMs = requireTimeoutMs(opts.waitMs ?? Infinity, "waitMs", action);
  const lock = await waitForLock(ctx, { name, owner, ttlS, waitMs, action }, opts.signal);
  return await holdWhile(lock, fn, opts.signal);
}
