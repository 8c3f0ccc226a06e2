/**
 * One claimed job's turn in a `work()` run: its handler (heartbeat and timeout while it runs),
 * then its outcome — the handler's own, an ack with the return value as the job's result, or a
 * retry with backoff — counted in the run's result and told to its observer. The run
 * (`work_run.ts`) owns the slots; this file owns what happens to one job in one of them.
 *
 * @module
 */

import type { Job } from "./job.ts";
import type { Waker } from "../wait/waker.ts";
import type { CompletionStep } from "./work_completion.ts";
import type { Heartbeats } from "./work_heartbeats.ts";
import { rememberResult, RESULT_TTL_DEFAULT_S } from "./job_outcome.ts";
import { backoffDelayS } from "./backoff.ts";
import type { Backoff } from "./backoff.ts";
import type { JobRunOptions, RunOptionsCache } from "./job_options.ts";
import { withTimeout } from "./work_timeout.ts";
import { confirmOwnOutcome } from "./work_give_back.ts";
import type { WorkResult, WorkSettings } from "./work_types.ts";

/** What one job's turn needs of its run. */
export interface JobTurnHost<T> {
  readonly settings: WorkSettings<T>;
  readonly waker: Waker;
  readonly heartbeats: Heartbeats<T>;
  readonly runOptions: RunOptionsCache;
  /** Seconds a return value is kept as the job's result (the queue's `resultTtlS`). */
  readonly resultTtlS: number | undefined;
  /** The run's counts, which this turn adds its outcome to. */
  readonly result: WorkResult;
  /** Aborts once the grace period after a stop ran out. */
  readonly graceOver: AbortSignal;
  /** The handler returned or threw: its slot is free. */
  handlerEnded(job: Job<T>): void;
  /** True when the job's result no longer matters: the run gave up on it. */
  abandoned(): boolean;
  /** Commits an ack or a retry with the others ready; false when the claim was lost. */
  settle(job: Job<T>, step: CompletionStep): Promise<boolean>;
}

/** `Name: message` of an Error, or the thrown value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/** Runs `job`'s handler and settles its outcome; `done` aborts the handler's signal. */
export async function runJobTurn<T>(
  host: JobTurnHost<T>,
  job: Job<T>,
  done: AbortController,
): Promise<void> {
  const s = host.settings;
  let own: JobRunOptions | undefined | null = null;
  let value: unknown;
  try {
    value = s.handler(job, { signal: done.signal });
    // A synchronous handler has finished already: the heartbeat is only for one still
    // running, and is set up after it started, off the path from claim to handler start.
    if (isThenable(value)) {
      host.heartbeats.add(job, done);
      // After the claim's other jobs started: one read serves them all.
      await null;
      own = host.runOptions.get(job.id);
      value = await withTimeout(value, own?.timeoutS ?? s.timeoutS, done, job.id);
    }
  } catch (error) {
    host.heartbeats.remove(job);
    host.handlerEnded(job);
    if (host.abandoned()) return;
    report(s, error, job);
    own ??= host.runOptions.get(job.id);
    await settleRetry(host, job, error, own?.backoff ?? s.backoff);
    return;
  }
  host.heartbeats.remove(job);
  host.handlerEnded(job);
  if (host.abandoned()) return;
  await settleReturn(host, job, value);
}

/** The handler returned `value`: its own outcome, or an ack that stores `value` as the result. */
async function settleReturn<T>(host: JobTurnHost<T>, job: Job<T>, value: unknown): Promise<void> {
  const ttlS = host.resultTtlS ?? RESULT_TTL_DEFAULT_S;
  if (job.outcome === null) rememberResult(job, value, ttlS, host.settings.action);
  // A handler may have settled the job itself, e.g. acked inside the transaction that wrote
  // its side effects.
  const outcome = await confirmOwnOutcome(host.waker, job, host.graceOver) ??
    (await host.settle(job, "ack") ? "acked" : "lost");
  const { result } = host;
  if (outcome === "acked") result.acked++;
  else if (outcome === "retried") result.retried++;
  else if (outcome === "lost" || outcome === "released") result.lost++;
  else result.dead++;
  const observer = host.settings.observer;
  if (outcome === "acked") observer?.completed(job, value);
  else if (outcome === "lost" || outcome === "released") observer?.lost(job);
  else observer?.failed(job, undefined, outcome === "failed");
}

/** The handler threw `error`: a retry after the backoff, or the dead letters once exhausted. */
async function settleRetry<T>(
  host: JobTurnHost<T>,
  job: Job<T>,
  error: unknown,
  backoff: Backoff,
): Promise<void> {
  const exhausted = job.attempts >= job.maxAttempts;
  const step = { retryDelayS: backoffDelayS(backoff, job.attempts), error: errorText(error) };
  const observer = host.settings.observer;
  if (!(await host.settle(job, step))) {
    host.result.lost++;
    observer?.lost(job);
  } else if (exhausted) {
    host.result.dead++;
    observer?.failed(job, error, true);
  } else {
    host.result.retried++;
    observer?.failed(job, error, false);
  }
}

/** Tells onError about a handler's error; an onError that throws is reported, never fatal. */
function report<T>(s: WorkSettings<T>, error: unknown, job: Job<T>): void {
  try {
    s.onError?.(error, job);
  } catch (thrown) {
    console.error(`honker-ts: ${s.action}: onError threw`, thrown);
  }
}
