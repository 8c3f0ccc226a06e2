/**
 * The unique-key options of `enqueue()` and their checks: which mode a key is taken in, and
 * every refusal made before anything is written.
 *
 * @module
 */

import { requireName, requireSeconds } from "../db/validate.ts";
import type { JobKeyMode } from "./job_keys_sql.ts";

export type { JobKeyMode } from "./job_keys_sql.ts";

/** The longest key accepted, in UTF-16 code units. */
export const JOB_KEY_MAX_LENGTH = 512;

/**
 * Unique-job options of `enqueue()`. With `key` alone, a duplicate is dropped while the job
 * holding the key is live (pending or processing); `ttlS` throttles, `debounceS` debounces.
 */
export interface JobKeyOptions {
  /**
   * The job's unique key in this queue (a non-empty string of at most 512 characters). While a
   * job holds it, enqueueing with the same key adds no job and returns the holder's id.
   */
  key?: string;
  /**
   * Throttle: the key stays taken for `ttlS` seconds after the job was enqueued, even once it
   * has finished, and in any case while it is live.
   */
  ttlS?: number;
  /**
   * Debounce: the job runs once `debounceS` seconds passed without a duplicate (whole seconds of
   * SQLite's clock: between debounceS and debounceS + 1 s after the last one; 0 runs it at once).
   * A duplicate arriving while it is still pending replaces its payload and pushes its run time
   * back; once claimed, the key is free, so the next duplicate makes a new job (one pending job
   * per key).
   */
  debounceS?: number;
  /**
   * Debounce only: the job falls due at most this many seconds after the first enqueue of its
   * window, however many duplicates follow, so a steady stream cannot starve it (at least
   * `debounceS`).
   */
  maxWaitS?: number;
  /** Debounce only: false keeps the first payload of the window. Defaults to true. */
  replacePayload?: boolean;
}

/** Every key of `JobKeyOptions`. */
export const JOB_KEY_OPTION_KEYS: readonly (keyof JobKeyOptions)[] = [
  "key",
  "ttlS",
  "debounceS",
  "maxWaitS",
  "replacePayload",
];

/** A checked key request. */
export interface JobKeyPlan {
  key: string;
  mode: JobKeyMode;
  ttlS: number | null;
  debounceS: number | null;
  maxWaitS: number | null;
  replacePayload: boolean;
}

/** Options for the checks: the key options and the timing ones they may exclude. */
type KeyInput = JobKeyOptions & { delayS?: unknown; runAt?: unknown };

function positiveSeconds(value: unknown, what: string, action: string): number {
  const s = requireSeconds(value, what, action);
  if (s === 0) throw new RangeError(`Cannot ${action}: ${what} must be at least 1 second, got 0`);
  return s;
}

/** The key, checked: a non-empty string without NUL, at most JOB_KEY_MAX_LENGTH long. */
export function requireJobKey(value: unknown, action: string): string {
  const key = requireName(value, "key", action);
  if (key.length > JOB_KEY_MAX_LENGTH) {
    throw new RangeError(
      `Cannot ${action}: key must be at most ${JOB_KEY_MAX_LENGTH} characters, got ${key.length}`,
    );
  }
  return key;
}

/** Refuses an option that needs another one. */
function requireWith(opts: KeyInput, name: keyof JobKeyOptions, needs: string, action: string) {
  if (opts[name] !== undefined) {
    throw new TypeError(`Cannot ${action}: ${name} needs ${needs}`);
  }
}

/**
 * The key request of already shape-checked enqueue options, or null when there is no key.
 *
 * @throws {TypeError|RangeError} For a bad key, an option without the one it needs, throttle
 * and debounce together, or debounce with `delayS`/`runAt` (debounce sets the run time).
 */
export function checkJobKey(options: KeyInput | undefined, action: string): JobKeyPlan | null {
  const opts: KeyInput = options ?? {};
  if (opts.key === undefined) {
    for (const name of JOB_KEY_OPTION_KEYS) requireWith(opts, name, "a key", action);
    return null;
  }
  const key = requireJobKey(opts.key, action);
  if (opts.ttlS !== undefined && opts.debounceS !== undefined) {
    throw new TypeError(
      `Cannot ${action}: ttlS (throttle) and debounceS (debounce) exclude each other`,
    );
  }
  if (opts.debounceS === undefined) {
    requireWith(opts, "maxWaitS", "debounceS", action);
    requireWith(opts, "replacePayload", "debounceS", action);
    const ttlS = opts.ttlS === undefined ? null : positiveSeconds(opts.ttlS, "ttlS", action);
    const mode = ttlS === null ? "live" : "throttle";
    return { key, mode, ttlS, debounceS: null, maxWaitS: null, replacePayload: true };
  }
  if (opts.delayS !== undefined || opts.runAt !== undefined) {
    throw new TypeError(
      `Cannot ${action}: debounceS sets the run time, so delayS and runAt cannot be given with it`,
    );
  }
  const debounceS = requireSeconds(opts.debounceS, "debounceS", action);
  const maxWaitS = opts.maxWaitS === undefined
    ? null
    : positiveSeconds(opts.maxWaitS, "maxWaitS", action);
  if (maxWaitS !== null && maxWaitS < debounceS) {
    throw new RangeError(
      `Cannot ${action}: maxWaitS must be at least debounceS (${debounceS}), got ${maxWaitS}`,
    );
  }
  if (opts.replacePayload !== undefined && typeof opts.replacePayload !== "boolean") {
    throw new TypeError(`Cannot ${action}: replacePayload must be a boolean`);
  }
  return {
    key,
    mode: "debounce",
    ttlS: null,
    debounceS,
    maxWaitS,
    replacePayload: opts.replacePayload ?? true,
  };
}

/** Refuses every key option (for `enqueueMany()`: one key names one job). */
export function refuseJobKey(options: KeyInput | undefined, action: string): void {
  for (const name of JOB_KEY_OPTION_KEYS) {
    if (options?.[name] !== undefined) {
      throw new TypeError(
        `Cannot ${action}: ${name} is not supported by enqueueMany() (a key names one job: ` +
          "call enqueue() for each keyed job, inside one transaction if they belong together)",
      );
    }
  }
}
