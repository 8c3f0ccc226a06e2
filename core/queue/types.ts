/**
 * The queue's option and result types, apart from the class so that each file stays one
 * concept: the options and their checks, and what reads return.
 *
 * @module
 */

import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";
import { JOB_KEY_OPTION_KEYS } from "./job_keys_options.ts";
import type { JobKeyOptions } from "./job_keys_options.ts";
import {
  requireCount,
  requireInstant,
  requireInteger,
  requireOptions,
  requireSeconds,
} from "../db/validate.ts";
import type { JobRunOptionsInput } from "./job_options.ts";

/** Default claim lifetime before another worker may take the job: 300 s, as honker. */
export const VISIBILITY_TIMEOUT_DEFAULT_S = 300;
/** Default number of claims a job gets before it is dead-lettered: 3, as honker. */
export const MAX_ATTEMPTS_DEFAULT = 3;

/**
 * Options for `db.queue()`.
 *
 * @typeParam T The payload type jobs carry: the schema's output.
 * @typeParam In The payload type `enqueue()` takes: the schema's input.
 */
export interface QueueOptions<T = unknown, In = T> {
  /** Seconds a claim lasts before the job can be reclaimed. Defaults to 300. */
  visibilityTimeoutS?: number;
  /** Claims a job gets before it is dead-lettered. Defaults to 3. */
  maxAttempts?: number;
  /**
   * A Standard Schema validator (zod, valibot, arktype …). `enqueue()` validates the payload (a
   * TypeError before anything is written) and stores it as given; a claim validates it again
   * and hands the handler the schema's output, so a transforming schema (euros in, cents out)
   * is applied exactly once. A job whose payload no longer validates goes to the dead letters
   * with the validator's message. Must be synchronous.
   */
  schema?: StandardSchemaV1<In, T>;
  /**
   * Record job events for this queue (`queue.events()`), in every process sharing the file:
   * true switches them on, false off, for the file; omitted leaves the file's setting.
   */
  events?: boolean;
  /**
   * Seconds a `work()` handler's return value is kept as the job's result (`waitFor()`,
   * `getJob()`, `db.getResult()`); 0 keeps it forever. Defaults to 86 400 (a day).
   */
  resultTtlS?: number;
}

/** Every key of `QueueOptions`. */
export const QUEUE_OPTION_KEYS: readonly (keyof QueueOptions)[] = [
  "visibilityTimeoutS",
  "maxAttempts",
  "schema",
  "events",
  "resultTtlS",
];

/** Where a job runs (a delay from now, or an absolute instant, else now) and its limits, checked. */
export interface EnqueueTiming {
  delayS: number | null;
  runAt: number | null;
  priority: number;
  maxAttempts: number;
  expiresS: number | null;
}

/**
 * Options for `enqueue()` and `enqueueMany()`: the `JobKeyOptions` (with `enqueue()` only), and
 * `timeoutS` and `backoff` (see JobRunOptionsInput).
 */
export interface EnqueueOptions extends JobKeyOptions, JobRunOptionsInput {
  /** Commit together with this open transaction. */
  tx?: Transaction;
  /** Seconds from now until the job is due. Wins over `runAt`, as in honker. */
  delayS?: number;
  /**
   * When the job is due: a Date or whole unix seconds (not milliseconds: a number above 1e11
   * is refused as one).
   */
  runAt?: Date | number;
  /** Higher is claimed first. Defaults to 0. */
  priority?: number;
  /** Seconds from now after which the job can no longer be claimed. */
  expiresS?: number;
  /** Claims this job gets; defaults to the queue's `maxAttempts`. */
  maxAttempts?: number;
}

/** Every key of `EnqueueOptions`. */
export const ENQUEUE_OPTION_KEYS: readonly (keyof EnqueueOptions)[] = [
  "tx",
  "delayS",
  "runAt",
  "priority",
  "expiresS",
  "maxAttempts",
  ...JOB_KEY_OPTION_KEYS,
  "timeoutS",
  "backoff",
];

/**
 * Checks the options of `enqueue()` and `enqueueMany()`; `maxAttempts` defaults to the queue's.
 * Returns the transaction to join and the timing to store.
 */
export function checkEnqueueOptions(
  options: EnqueueOptions | undefined,
  queueMaxAttempts: number,
  action: string,
): { tx: Transaction | undefined; timing: EnqueueTiming } {
  const opts = requireOptions(options, action, ENQUEUE_OPTION_KEYS);
  const seconds = (value: number | undefined, what: string) =>
    value === undefined ? null : requireSeconds(value, what, action);
  const timing: EnqueueTiming = {
    delayS: seconds(opts.delayS, "delayS"),
    runAt: opts.runAt === undefined ? null : requireInstant(opts.runAt, "runAt", action),
    priority: requireInteger(opts.priority ?? 0, "priority", action),
    maxAttempts: requireCount(opts.maxAttempts ?? queueMaxAttempts, "maxAttempts", action),
    expiresS: seconds(opts.expiresS, "expiresS"),
  };
  return { tx: opts.tx, timing };
}

/**
 * A job as `getJob()` reports it: a live one (pending or processing), a dead one, or a
 * completed one whose result is kept (or whose `completed` event is, with events on). A
 * completed job's row is gone: its payload is undefined and the fields the file no longer
 * keeps are 0 or null.
 */
export interface JobInfo<T = unknown> {
  /** The job id. */
  id: number;
  /** The queue it belongs to. */
  queue: string;
  /** The decoded payload. */
  payload: T;
  /**
   * `pending` (waiting or retrying), `processing` (claimed), `dead` (in the dead letters) or
   * `completed` (acked, with a result or an event kept).
   */
  state: "pending" | "processing" | "dead" | "completed";
  /** Higher is claimed first. */
  priority: number;
  /** Unix seconds it was (or is) due. */
  runAt: number;
  /** The worker holding the claim, or null. */
  workerId: string | null;
  /** Unix seconds the claim lasts until, or null. */
  claimExpiresAt: number | null;
  /** How many times it was claimed. */
  attempts: number;
  /** Claims it was allowed. */
  maxAttempts: number;
  /** Unix seconds it was enqueued. */
  createdAt: number;
  /** Unix seconds after which it can no longer be claimed, or null. */
  expiresAt: number | null;
  /** A live job's latest `job.progress()` value, if any. */
  progress?: unknown;
  /** A completed job's result (the handler's return value), if one is kept. */
  result?: unknown;
  /** A dead job's error. */
  lastError?: string | null;
}

/** Counts for one queue, from `stats()`. */
export interface QueueStats {
  /** Pending and due now. */
  pending: number;
  /** Pending with `run_at` in the future. */
  scheduled: number;
  /** Claimed by a worker. */
  processing: number;
  /** In the dead letters. */
  dead: number;
  /** Of pending and scheduled: back after a retry (attempts above 0). */
  retrying: number;
  /** Of processing: claims that expired, which the next claim takes again. */
  stalled: number;
  /** Claims take nothing from the queue (`queue.pause()`, in any honker-ts process). */
  paused: boolean;
}
