/**
 * `queue.waitFor(jobId)`: sleeps until the job finished, in any process, and settles with its
 * outcome: the result, or the error it died with. Woken by commits (this process's acks
 * included), never polled faster than the idle poll; works on queues without events (it reads
 * the live row, the dead row and the result), and tells more with them (a job that completed
 * without a result, or was cancelled, before the first look).
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { DatabaseClosedError } from "../db/errors.ts";
import { requireId, requireOptions, requireTimeoutMs } from "../db/validate.ts";
import { idlePollMs, SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";
import { JobFailedError, JobNotFoundError, JobWaitTimeoutError } from "./job_errors.ts";
import { readJobStatus } from "./job_status.ts";
import { JOB_ID_GONE } from "./events_sql.ts";
import type { SqliteDriver } from "../db/driver.ts";

/** Options for `queue.waitFor()`. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (a JobWaitTimeoutError). Defaults to Infinity. */
  timeoutMs?: number;
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Milliseconds between looks when no wake arrives (at least 1); null waits for wakes only.
   * Defaults to 5000.
   */
  idlePollMs?: number | null;
}

/** Every key of `WaitForOptions`. */
export const WAIT_FOR_OPTION_KEYS: readonly (keyof WaitForOptions)[] = [
  "timeoutMs",
  "signal",
  "idlePollMs",
];

/** Whether job id `id` was handed out in this file and is neither live nor dead anywhere. */
function wasIssued(driver: SqliteDriver, id: number): boolean {
  return driver.get(JOB_ID_GONE, [id, id, id]) !== undefined;
}

type Outcome = { value: unknown } | { error: Error };

/** One look: the outcome once the job finished, undefined while it is live. */
function looker(ctx: DatabaseContext, queue: string, id: number, action: string) {
  let seenLive = false;
  return (): Outcome | undefined => {
    const status = readJobStatus(ctx.open(action), queue, id);
    switch (status.state) {
      case "live":
        seenLive = true;
        return undefined;
      case "completed":
        return { value: status.result };
      case "dead":
        return { error: new JobFailedError(queue, id, status.lastError) };
      case "cancelled":
        return { error: new JobNotFoundError(queue, id, "cancelled") };
      default:
        // Gone without a trace: it completed without a result, or was cancelled, which only
        // events would tell. An id never handed out, or another queue's live or dead job, is unknown.
        return seenLive || wasIssued(ctx.open(action), id)
          ? { value: undefined }
          : { error: new JobNotFoundError(queue, id, "unknown") };
    }
  };
}

/** Waits for job `id` of `queue` to finish; see `Queue.waitFor()`. */
export async function waitForJob<R>(
  ctx: DatabaseContext,
  queue: string,
  id: number,
  options: WaitForOptions | undefined,
  action: string,
): Promise<R> {
  requireId(id, "jobId", action);
  const opts = requireOptions(options, action, WAIT_FOR_OPTION_KEYS);
  const timeoutMs = requireTimeoutMs(opts.timeoutMs ?? Infinity, "timeoutMs", action);
  const idleMs = Math.min(idlePollMs(opts.idlePollMs, action), SLEEP_CAP_MS);
  const { signal } = opts;
  ctx.open(action);
  if (signal?.aborted) throw signal.reason;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = Number.isFinite(timeoutMs) ? setTimeout(onAbort, timeoutMs) : undefined;
  let outcome: Outcome | undefined;
  try {
    outcome = await waitLoop(ctx.waker, looker(ctx, queue, id, action), {
      signal: stop.signal,
      sleepMs: () => idleMs,
      quiet: true,
    });
  } finally {
    signal?.removeEventListener("abort", onAbort);
    clearTimeout(timer);
  }
  if (outcome === undefined) {
    if (signal?.aborted) throw signal.reason;
    if (ctx.waker.closed) throw new DatabaseClosedError(action);
    throw new JobWaitTimeoutError(queue, id, timeoutMs);
  }
  if ("error" in outcome) throw outcome.error;
  return outcome.value as R;
}
