/**
 * Dead-letter inspection and recovery. honker has none of this; it is plain SQL on
 * `_honker_dead`, so it works on files written by any honker binding.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { parseJson } from "../db/json.ts";
import { DEAD_DELETE, DEAD_LIST, DEAD_PURGE } from "./sql.ts";
import { enqueueJob } from "./ops.ts";
import { requireCount, requireId, requireOptions, requireSeconds } from "../db/validate.ts";

/** A job in the dead letters. */
export interface DeadJob<T = unknown> {
  /** The id it had while live. */
  id: number;
  /** The queue it belongs to. */
  queue: string;
  /** The decoded payload. */
  payload: T;
  /** Higher is claimed first. */
  priority: number;
  /** Unix seconds it was (or is) due. */
  runAt: number;
  /** How many times it was claimed. */
  attempts: number;
  /** Claims it was allowed. */
  maxAttempts: number;
  /** Why it died: the error given to fail()/retry(), "max attempts exceeded" or "expired". */
  lastError: string | null;
  /** Unix seconds it was enqueued. */
  createdAt: number;
  /** Unix seconds it was moved to the dead letters. */
  diedAt: number;
}

/** Options for `deadLetters()`. */
export interface DeadLettersOptions {
  /** At most this many rows. Defaults to 100. */
  limit?: number;
  /** Only ids below this one (for paging, pass the last id seen). */
  before?: number;
}

/** Every key of `DeadLettersOptions`. */
export const DEAD_LETTERS_OPTION_KEYS: readonly (keyof DeadLettersOptions)[] = ["limit", "before"];

/** Options for `purgeDead()`. */
export interface PurgeDeadOptions {
  /** Only rows that died at least this many seconds ago. Defaults to 0 (all). */
  olderThanS?: number;
}

/** Every key of `PurgeDeadOptions`. */
export const PURGE_DEAD_OPTION_KEYS: readonly (keyof PurgeDeadOptions)[] = ["olderThanS"];

/** A `_honker_dead` row as read here. */
export interface DeadRow {
  [column: string]: string | number | null;
  id: number;
  queue: string;
  payload: string;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created_at: number;
  died_at: number;
}

/** Lists dead rows of a queue, newest first, payloads as stored. */
export function listDead<T>(
  driver: SqliteDriver,
  queue: string,
  options: DeadLettersOptions | undefined,
  action: string,
): DeadJob<T>[] {
  const opts = requireOptions(options, action, DEAD_LETTERS_OPTION_KEYS);
  const limit = requireCount(opts.limit ?? 100, "limit", action);
  const before = opts.before === undefined
    ? Number.MAX_SAFE_INTEGER
    : requireId(opts.before, "before", action);
  return driver.all<DeadRow>(DEAD_LIST, [queue, before, limit]).map((row) => ({
    id: row.id,
    queue: row.queue,
    payload: parseJson<T>(row.payload),
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    diedAt: row.died_at,
  }));
}

/**
 * Moves one dead row back to the live table as a new pending job, due now, keeping payload and
 * priority. Returns the new id, or null when no such dead row exists in this queue. Must run in
 * a transaction.
 */
export function requeueDead(
  driver: SqliteDriver,
  queue: string,
  id: number,
  maxAttemptsDefault: number,
): number | null {
  const row = driver.get<DeadRow>(DEAD_DELETE, [id, queue]);
  if (!row) return null;
  return enqueueJob(driver, queue, row.payload, {
    delayS: null,
    runAt: null,
    priority: row.priority,
    maxAttempts: row.max_attempts > 0 ? row.max_attempts : maxAttemptsDefault,
    expiresS: null,
  });
}

/** Deletes dead rows of a queue older than `olderThanS`. Returns how many. */
export function purgeDead(
  driver: SqliteDriver,
  queue: string,
  options: PurgeDeadOptions | undefined,
  action: string,
): number {
  const opts = requireOptions(options, action, PURGE_DEAD_OPTION_KEYS);
  const olderThanS = requireSeconds(opts.olderThanS ?? 0, "olderThanS", action);
  return driver.run(DEAD_PURGE, [queue, olderThanS]).changes;
}
