/**
 * The types and constants of `work()`, shared by its options check (`work.ts`) and its run
 * (`work_run.ts`).
 *
 * @module
 */

import type { ClaimOptions } from "./claim.ts";
import type { Job } from "./job.ts";
import { SLEEP_CAP_MS } from "../wait/wait_loop.ts";
import type { FetcherSource } from "./work_fetcher.ts";
import type { Backoff, BackoffOptions } from "./backoff.ts";
import type { JobRunOptions } from "./job_options.ts";

/** Default base of the retry backoff: 5 s, doubling per attempt. */
export const RETRY_DELAY_DEFAULT_S = 5;
/** The backoff never exceeds an hour. */
export const RETRY_DELAY_MAX_S = 3600;
/** Default time in-flight handlers get to finish after abort. */
export const GRACE_DEFAULT_MS = 30_000;

/** What a handler gets besides the job. */
export interface JobContext {
  /**
   * Aborts when the claim was lost (heartbeat refused), the attempt ran past its `timeoutS`,
   * the stop grace period ran out, or work() failed and gave the job back.
   */
  signal: AbortSignal;
}

/** Runs one job; throw to retry it. */
export type JobHandler<T> = (job: Job<T>, context: JobContext) => unknown;

/**
 * Options for `queue.work()`.
 *
 * @typeParam T The payload type of the queue's jobs, as `onError` gets them.
 */
export interface WorkOptions<T = unknown> extends ClaimOptions {
  /** Handlers running at once. Defaults to 1. */
  concurrency?: number;
  /**
   * Jobs a run may claim beyond its free slots, held in memory (their claims renewed) and
   * started in claim order as slots free up: a worker of many short jobs then claims and acks
   * in fewer, larger transactions, which is what limits several processes sharing one file.
   * Held jobs are given back (pending again, their attempt refunded) when the worker pauses or
   * stops; after a crash they come back when their visibility timeout runs out, one attempt
   * used. They wait behind the running handlers, also while another process's slot is free
   * and while a higher-priority job arrives: keep it 0 for slow or rare jobs. Default 0.
   */
  prefetch?: number;
  /** The worker id claims are made under. Defaults to a random `work-…` id. */
  workerId?: string;
  /** Base retry delay in seconds; attempt n waits base × 2^(n−1), at most an hour. Default 5. */
  retryDelayS?: number;
  /**
   * The retry backoff, instead of `retryDelayS` (giving both is refused). A job enqueued with
   * its own `backoff` uses that one.
   */
  backoff?: BackoffOptions;
  /**
   * Seconds one attempt may run: then the handler's signal aborts and the attempt counts as
   * failed (retried or dead as usual), even if the handler ignores the signal — its later
   * return is ignored. A job enqueued with its own `timeoutS` uses that one. Only an async
   * handler can be timed out. Default: none.
   */
  timeoutS?: number;
  /** Milliseconds in-flight handlers get to finish after abort. Defaults to 30 000. */
  graceMs?: number;
  /**
   * Told about every handler error (the job is retried or dead-lettered either way). An
   * `onError` that throws is reported on the console; it never stops the worker.
   */
  onError?: (error: unknown, job: Job<T>) => void;
}

/** What a `work()` run did. */
export interface WorkResult {
  /** Jobs handled and acked. */
  acked: number;
  /** Handler errors that put the job back for a retry. */
  retried: number;
  /** Handler errors on the last attempt: the job went to the dead letters. */
  dead: number;
  /** Jobs whose claim was lost before the ack (expired and taken, or cancelled). */
  lost: number;
}

/** The keys `work()` accepts. */
export const WORK_OPTION_KEYS: readonly (keyof WorkOptions)[] = [
  "concurrency",
  "prefetch",
  "workerId",
  "retryDelayS",
  "backoff",
  "timeoutS",
  "graceMs",
  "onError",
  "idlePollMs",
  "signal",
];

/** What work() needs of a queue. */
export interface WorkSource<T> extends FetcherSource<T> {
  readonly visibilityTimeoutS: number;
  /** The run options (timeout, backoff) of those of the jobs that have any, in one read. */
  jobRunOptions(jobIds: readonly number[]): Map<number, JobRunOptions>;
  /** Seconds a handler's return value is kept as the job's result (0: forever). */
  readonly resultTtlS?: number;
}

/** @internal What a run tells its Worker as it happens (the Worker's events). */
export interface WorkObserver<T> {
  /** The ack committed; `value` is what the handler returned. */
  completed(job: Job<T>, value: unknown): void;
  /** A handler error committed as a retry, or as a dead letter when `dead`. */
  failed(job: Job<T>, error: unknown, dead: boolean): void;
  /** The claim was lost before the outcome committed. */
  lost(job: Job<T>): void;
  /** An error of the run itself, not of a handler. */
  error(error: unknown): void;
  /** A claim found nothing more due (once until a job starts again). */
  drained(): void;
}

/** @internal A work() call's checked options. */
export interface WorkSettings<T> {
  action: string;
  handler: JobHandler<T>;
  concurrency: number;
  prefetch: number;
  workerId: string;
  backoff: Backoff;
  timeoutS: number | undefined;
  graceMs: number;
  idleMs: number;
  onError: WorkOptions<T>["onError"];
  observer?: WorkObserver<T>;
}

/**
 * How often a running handler's claim is renewed: three times per visibility timeout. The claim
 * is stored in whole seconds (`unixepoch() + timeout`, valid through that second), so a claim
 * made late in a second lasts only just over `timeout` seconds: a third of it leaves two beats of
 * slack. Capped so that a long timeout cannot overflow the timer.
 */
export function heartbeatEveryMs(visibilityTimeoutS: number): number {
  return Math.min(SLEEP_CAP_MS, (visibilityTimeoutS * 1000) / 3);
}
