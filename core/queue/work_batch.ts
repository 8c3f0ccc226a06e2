/**
 * Batch handlers: a handler that takes up to `size` jobs at once, on top of the ordinary worker.
 * Each job keeps its own slot, claim, heartbeat, timeout and outcome; the jobs a claim hands out
 * together are gathered (up to `size`) and passed to one call. When the call returns, every job
 * is acked; when it throws, every job is retried. It may instead return one entry per job: an
 * `Error` retries that job alone, anything else is that job's value.
 *
 * @module
 */

import type { Job } from "./job.ts";
import { requireCount } from "../db/validate.ts";
import type { JobContext, JobHandler, WorkOptions } from "./work_types.ts";

/** Runs a batch of jobs; throw to retry them all, or return one entry per job (an Error retries it). */
export type BatchHandler<T> = (jobs: Job<T>[], context: JobContext) => unknown;

/** Options for `queue.batchWorker()`: the worker's, plus the batch size. */
export interface BatchWorkOptions<T = unknown> extends WorkOptions<T> {
  /** The most jobs one call gets. */
  size: number;
  /** Batches running at once. Defaults to 1. */
  concurrency?: number;
}

interface Gathering<T> {
  jobs: Job<T>[];
  signals: AbortSignal[];
  outcome: Promise<unknown[] | undefined>;
}

async function runBatch<T>(
  handler: BatchHandler<T>,
  batch: Gathering<T>,
): Promise<unknown[] | undefined> {
  const value = await handler(batch.jobs, { signal: AbortSignal.any(batch.signals) });
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length !== batch.jobs.length) {
    throw new TypeError(
      `a batch handler must return nothing or one entry per job (${batch.jobs.length})`,
    );
  }
  return value;
}

/**
 * Checks the batch options and turns the batch handler into a job handler over
 * `size × concurrency` slots; returns it with the worker's own options.
 */
export function batchToJobs<T>(
  handler: BatchHandler<T>,
  options: BatchWorkOptions<T>,
  action: string,
): { handler: JobHandler<T>; options: WorkOptions<T> } {
  if (typeof handler !== "function") {
    throw new TypeError(`Cannot ${action}: the batch handler must be a function`);
  }
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${action}: options with a batch size are required`);
  }
  const { size, ...rest } = options;
  const perBatch = requireCount(size, "size", action);
  const batches = requireCount(rest.concurrency ?? 1, "concurrency", action);
  let gathering: Gathering<T> | undefined;
  const jobHandler: JobHandler<T> = (job, { signal }) => {
    let batch = gathering;
    if (batch === undefined || batch.jobs.length >= perBatch) {
      const fresh: Gathering<T> = { jobs: [], signals: [], outcome: Promise.resolve(undefined) };
      // Jobs handed out by the same claim arrive in one synchronous loop: the call starts after.
      fresh.outcome = Promise.resolve().then(() => {
        if (gathering === fresh) gathering = undefined;
        return runBatch(handler, fresh);
      });
      gathering = batch = fresh;
    }
    const index = batch.jobs.push(job) - 1;
    batch.signals.push(signal);
    return batch.outcome.then((values) => {
      const value = values?.[index];
      if (value instanceof Error) throw value;
      return value;
    });
  };
  return { handler: jobHandler, options: { ...rest, concurrency: perBatch * batches } };
}
