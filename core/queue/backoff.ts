/**
 * How long a failed job waits before its next attempt: exponential (base × 2^(attempt−1)) or
 * fixed, capped at `maxDelayS`, with optional jitter that shortens each delay by a random share
 * (BullMQ's meaning: `jitter: 0.5` waits between half the delay and all of it). Delays are whole
 * seconds, as honker stores `run_at`.
 *
 * @module
 */

import { requireOptions, requireSeconds } from "../db/validate.ts";

/**
 * A retry backoff, per worker (`queue.worker(handler, { backoff })`) or per job
 * (`enqueue(payload, { backoff })`, stored in the file for every honker-ts process).
 */
export interface BackoffOptions {
  /** `"exponential"`: attempt n waits `delayS` × 2^(n−1); `"fixed"`: every attempt waits `delayS`. */
  type: "exponential" | "fixed";
  /** The base delay in whole seconds. */
  delayS: number;
  /** The longest delay in whole seconds. Defaults to no cap for fixed, an hour (or `delayS`, if longer) for exponential. */
  maxDelayS?: number;
  /** A share from 0 to 1: each delay is shortened by a random part of up to this share. Default 0. */
  jitter?: number;
}

/** A checked backoff, every field set. */
export interface Backoff {
  /** `exponential`: delayS × 2^(attempt−1); `fixed`: delayS every time. */
  type: "exponential" | "fixed";
  /** The first (or every) delay, whole seconds. */
  delayS: number;
  /** The longest delay, whole seconds. */
  maxDelayS: number;
  /** The share (0 to 1) of each delay that may be cut at random. */
  jitter: number;
}

/** The cap of the exponential backoff when none is given: an hour, as `retryDelayS` always had. */
export const BACKOFF_MAX_DEFAULT_S = 3600;

const BACKOFF_KEYS: readonly (keyof BackoffOptions)[] = ["type", "delayS", "maxDelayS", "jitter"];

/** Today's `retryDelayS`: exponential from `retryDelayS`, at most an hour, no jitter. */
export function retryDelayBackoff(retryDelayS: number): Backoff {
  return { type: "exponential", delayS: retryDelayS, maxDelayS: BACKOFF_MAX_DEFAULT_S, jitter: 0 };
}

/** Checks a backoff option; the message names `what` (`backoff`). */
export function requireBackoff(value: unknown, what: string, action: string): Backoff {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Cannot ${action}: ${what} must be an object like { type, delayS }`);
  }
  const opts = requireOptions(value as BackoffOptions, action, BACKOFF_KEYS);
  if (opts.type !== "exponential" && opts.type !== "fixed") {
    throw new TypeError(
      `Cannot ${action}: ${what}.type must be "exponential" or "fixed", got ${
        JSON.stringify(opts.type) ?? String(opts.type)
      }`,
    );
  }
  const delayS = requireSeconds(opts.delayS, `${what}.delayS`, action);
  const fallbackMax = opts.type === "fixed" ? delayS : Math.max(BACKOFF_MAX_DEFAULT_S, delayS);
  const maxDelayS = requireSeconds(opts.maxDelayS ?? fallbackMax, `${what}.maxDelayS`, action);
  const jitter = opts.jitter ?? 0;
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) {
    const error = typeof jitter === "number" ? RangeError : TypeError;
    throw new error(`Cannot ${action}: ${what}.jitter must be a number from 0 to 1, got ${jitter}`);
  }
  return { type: opts.type, delayS, maxDelayS, jitter };
}

/**
 * The delay before the next attempt, in whole seconds, after attempt `attempts` (1 for the first
 * claim) failed. `random` is injectable for tests; it returns a number in [0, 1).
 */
export function backoffDelayS(
  b: Backoff,
  attempts: number,
  random: () => number = Math.random,
): number {
  const full = b.type === "fixed" ? b.delayS : b.delayS * 2 ** Math.max(0, attempts - 1);
  const capped = Math.min(b.maxDelayS, full);
  return Math.floor(capped * (1 - b.jitter * random()));
}

/** The backoff as stored in `_honker_ts_job_options.backoff` (JSON text). */
export function backoffText(b: Backoff): string {
  return JSON.stringify(b);
}

/** A stored backoff read back; a value this version cannot read counts as none. */
export function parseBackoff(text: string | null): Backoff | undefined {
  if (text === null) return undefined;
  try {
    return requireBackoff(JSON.parse(text), "backoff", "read a stored backoff");
  } catch {
    return undefined;
  }
}
