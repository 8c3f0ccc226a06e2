/**
 * The one wait loop every waiting API uses (claim, work, subscribe, listen, waitForEvents,
 * withLock, the scheduler): read the waker's sequence, look, and when the look found nothing,
 * sleep until a commit from any process, a deadline, or abort. It survives the two things a
 * long-running loop meets in real use: a watcher that died (waits then poll), and a database
 * another process keeps busy (SQLITE_BUSY / SQLITE_LOCKED are retried after a jittered backoff,
 * never fatal).
 *
 * @module
 */

import { DatabaseClosedError, isTransientSqliteError, WatcherDiedError } from "../db/errors.ts";
import type { Waker } from "./waker.ts";

/** A single sleep never lasts longer, so a suspended machine cannot oversleep a deadline. */
export const SLEEP_CAP_MS = 30_000;
/** Default idle poll in milliseconds: a look at least this often even without any wake. */
export const IDLE_POLL_DEFAULT_MS = 5_000;
/** The first pause after a busy database; it doubles per failure in a row. */
export const BUSY_BACKOFF_MIN_MS = 5;
/** The longest pause between tries on a busy database. */
export const BUSY_BACKOFF_MAX_MS = 250;

/**
 * Checks an `idlePollMs` option (milliseconds; undefined for the default, null for "wakes and
 * deadlines only") and returns it (Infinity for null).
 *
 * @throws {RangeError} For a number below 1 ms, or NaN or ±Infinity.
 * @throws {TypeError} For anything else but a number, null or undefined.
 */
export function idlePollMs(valueMs: number | null | undefined, action: string): number {
  if (valueMs === null) return Infinity;
  const ms: unknown = valueMs ?? IDLE_POLL_DEFAULT_MS;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 1) {
    const error = typeof ms === "number" ? RangeError : TypeError;
    const got = typeof ms === "string" ? JSON.stringify(ms) : String(ms);
    throw new error(
      `Cannot ${action}: idlePollMs must be a positive number or null, got ${got} ` +
        "(milliseconds, at least 1)",
    );
  }
  return ms;
}

/**
 * How long to pause after `failures` busy results in a row: exponential from
 * BUSY_BACKOFF_MIN_MS to BUSY_BACKOFF_MAX_MS, with ±50 % jitter so that processes contending for
 * the write lock do not retry in step.
 */
export function busyBackoffMs(failures: number): number {
  const base = Math.min(BUSY_BACKOFF_MAX_MS, BUSY_BACKOFF_MIN_MS * 2 ** Math.max(0, failures - 1));
  return base * (0.5 + Math.random());
}

/** Options for {@linkcode waitLoop}. */
export interface WaitLoopOptions {
  /** Ends the loop: `waitLoop` then resolves undefined. */
  signal?: AbortSignal;
  /** Milliseconds to sleep after a look that found nothing; capped at SLEEP_CAP_MS. */
  sleepMs(): number;
  /** Also wake on this process's quiet writes (claims, acks): for loops that look for them. */
  quiet?: boolean;
}

/** Whether a loop should simply end: the database was closed under it. */
function isClosed(waker: Waker, error: unknown): boolean {
  return waker.closed || error instanceof DatabaseClosedError;
}

/**
 * Runs `look` until it returns a value, sleeping between looks; resolves with that value, or
 * undefined when the signal aborts or the database closes.
 *
 * The wake sequence is read before every look and passed to the wait, so a commit landing
 * between "found nothing" and "start waiting" ends the wait at once. A transient SQLite error
 * thrown by `look` pauses (busyBackoffMs, woken early by a commit) and looks again; any other
 * error rejects.
 */
export async function waitLoop<T>(
  waker: Waker,
  look: () => T | undefined,
  options: WaitLoopOptions,
): Promise<T | undefined> {
  const { signal, quiet } = options;
  let busy = 0;
  while (!signal?.aborted && !waker.closed) {
    const since = quiet ? waker.allSeq : waker.seq;
    let timeoutMs: number;
    let backoff = false;
    try {
      const found = look();
      if (found !== undefined) return found;
      busy = 0;
      timeoutMs = Math.min(Math.max(0, options.sleepMs()), SLEEP_CAP_MS);
    } catch (error) {
      if (isClosed(waker, error)) return undefined;
      if (!isTransientSqliteError(error)) throw error;
      timeoutMs = busyBackoffMs(++busy);
      backoff = true;
    }
    if (!(await pause(waker, { timeoutMs, signal, since, quiet, backoff }))) return undefined;
  }
  return undefined;
}

/**
 * One wait on the waker that treats a dead watcher as "look again" (later waits poll on their
 * own). Returns false when the loop should end (abort or close).
 */
export async function pause(
  waker: Waker,
  options: {
    timeoutMs: number;
    signal?: AbortSignal;
    since?: number;
    quiet?: boolean;
    backoff?: boolean;
  },
): Promise<boolean> {
  try {
    return (await waker.wait(options)) !== "abort";
  } catch (error) {
    if (error instanceof WatcherDiedError) return !waker.closed;
    throw error;
  }
}

/**
 * Runs a background write, retrying it while the database is busy, until it succeeds, the
 * `signal` aborts (then it rejects with the last busy error) or `giveUpAt` (a Date.now() value)
 * passes. Each try blocks the event loop for at most the background busy timeout.
 */
export async function retryWhileBusy<T>(
  waker: Waker,
  write: () => T,
  options: { signal?: AbortSignal; giveUpAt?: number } = {},
): Promise<T> {
  for (let busy = 1;; busy++) {
    try {
      return write();
    } catch (error) {
      if (!isTransientSqliteError(error)) throw error;
      const left = (options.giveUpAt ?? Infinity) - Date.now();
      if (options.signal?.aborted || waker.closed || left <= 0) throw error;
      await pause(waker, { timeoutMs: Math.min(busyBackoffMs(busy), left), backoff: true });
    }
  }
}
