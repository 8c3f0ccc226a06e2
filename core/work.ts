/**
 * The worker loop most applications call: claim, run an async handler, ack on success, retry
 * with exponential backoff on a throw (dead letters once attempts run out), heartbeat long
 * handlers, and on abort stop claiming and let in-flight handlers finish.
 *
 * @module
 */

import type { ClaimOptions } from "./claim.ts";
import type { Job } from "./job.ts";
import type { Queue } from "./queue.ts";
import { SLEEP_CAP_MS } from "./claim.ts";
import {
  requireCount,
  requireName,
  requireOptions,
  requireSeconds,
  requireTimerMs,
} from "./validate.ts";

/** Default base of the retry backoff: 5 s, doubling per attempt. */
export const RETRY_DELAY_DEFAULT_S = 5;
/** The backoff never exceeds an hour. */
export const RETRY_DELAY_MAX_S = 3600;
/** Default time in-flight handlers get to finish after abort. */
export const GRACE_DEFAULT_MS = 30_000;

/** What a handler gets besides the job. */
export interface JobContext {
  /** Aborts when the claim was lost (heartbeat refused) or the stop grace period ran out. */
  signal: AbortSignal;
}

/** Runs one job; throw to retry it. */
export type JobHandler<T> = (job: Job<T>, context: JobContext) => unknown;

/** Options for `queue.work()`. */
export interface WorkOptions extends ClaimOptions {
  /** Handlers running at once. Defaults to 1. */
  concurrency?: number;
  /** The worker id claims are made under. Defaults to a random `work-…` id. */
  workerId?: string;
  /** Base retry delay in seconds; attempt n waits base × 2^(n−1), at most an hour. Default 5. */
  retryDelayS?: number;
  /** Milliseconds in-flight handlers get to finish after abort. Defaults to 30 000. */
  graceMs?: number;
  /** Told about every handler error (the job is retried or dead-lettered either way). */
  onError?: (error: unknown, job: Job<unknown>) => void;
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

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Runs `handler` over the queue until `options.signal` aborts; see `Queue.work()`. */
export async function work<T>(
  queue: Queue<T>,
  handler: JobHandler<T>,
  options?: WorkOptions,
): Promise<WorkResult> {
  const action = `work on queue ${JSON.stringify(queue.name)}`;
  if (typeof handler !== "function") {
    throw new TypeError(`Cannot ${action}: the handler must be a function`);
  }
  const opts = requireOptions(options, action);
  const concurrency = requireCount(opts.concurrency ?? 1, "concurrency", action);
  const workerId = requireName(
    opts.workerId ?? `work-${crypto.randomUUID().slice(0, 8)}`,
    "workerId",
    action,
  );
  const retryDelayS = requireSeconds(
    opts.retryDelayS ?? RETRY_DELAY_DEFAULT_S,
    "retryDelayS",
    action,
  );
  const graceMs = requireTimerMs(opts.graceMs ?? GRACE_DEFAULT_MS, "graceMs", action, true);
  const result: WorkResult = { acked: 0, retried: 0, dead: 0, lost: 0 };
  const graceOver = new AbortController();

  const beatMs = Math.min(SLEEP_CAP_MS, Math.max(1000, (queue.visibilityTimeoutS * 1000) / 3));

  const runJob = async (job: Job<T>): Promise<void> => {
    const jobDone = new AbortController();
    let beat: ReturnType<typeof setInterval> | undefined;
    const stopBeating = (reason: Error) => {
      clearInterval(beat);
      jobDone.abort(reason);
    };
    // A handler still running when the grace period ends is abandoned: it stops heartbeating,
    // so its job is reclaimed after the visibility timeout.
    const onGraceOver = () => stopBeating(new Error("work() stopped and the grace period ran out"));
    try {
      const running = handler(job, { signal: jobDone.signal });
      // A synchronous handler has finished already: the heartbeat and the grace listener are
      // only for one still running, and are set up after it started, off the path from claim
      // to handler start.
      if (isThenable(running)) {
        // Renew well before the claim lapses; a refused heartbeat means someone else has it.
        // Capped (beatMs) so that a long visibility timeout cannot overflow the timer into a
        // busy one.
        beat = setInterval(() => {
          let held = false;
          try {
            held = job.heartbeat();
          } catch {
            // The database was closed under the handler: the claim simply lapses.
          }
          if (!held) stopBeating(new Error(`the claim on job ${job.id} was lost`));
        }, beatMs);
        graceOver.signal.addEventListener("abort", onGraceOver, { once: true });
        await running;
      }
      if (graceOver.signal.aborted) return; // Abandoned: work() has already returned.
      // A handler may have settled the job itself, e.g. acked inside the transaction that wrote
      // its side effects.
      const outcome = job.outcome ?? (job.ack() ? "acked" : "lost");
      if (outcome === "acked") result.acked++;
      else if (outcome === "lost") result.lost++;
      else if (outcome === "retried") result.retried++;
      else result.dead++;
    } catch (error) {
      if (graceOver.signal.aborted) return;
      opts.onError?.(error, job as Job<unknown>);
      const delayS = Math.min(RETRY_DELAY_MAX_S, retryDelayS * 2 ** (job.attempts - 1));
      const exhausted = job.attempts >= job.maxAttempts;
      if (!job.retry(Math.floor(delayS), errorText(error))) result.lost++;
      else if (exhausted) result.dead++;
      else result.retried++;
    } finally {
      clearInterval(beat);
      graceOver.signal.removeEventListener("abort", onGraceOver);
    }
  };

  const slot = async (): Promise<void> => {
    for await (const job of queue.claim(workerId, opts)) await runJob(job);
  };
  const slots = Promise.all(Array.from({ length: concurrency }, slot));
  // Errors after work() returned (an abandoned handler finishing late) must not crash the process.
  slots.catch(() => {});
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const onStop = () => {
    graceTimer ??= setTimeout(() => graceOver.abort(), graceMs);
  };
  opts.signal?.addEventListener("abort", onStop, { once: true });
  if (opts.signal?.aborted) onStop();
  const graceRanOut = new Promise<void>((resolve) =>
    graceOver.signal.addEventListener("abort", () => resolve(), { once: true })
  );
  try {
    await Promise.race([slots, graceRanOut]);
  } finally {
    opts.signal?.removeEventListener("abort", onStop);
    if (graceTimer !== undefined) clearTimeout(graceTimer);
  }
  return result;
}
