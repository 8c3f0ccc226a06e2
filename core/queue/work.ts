/**
 * The worker loop most applications call: one fetcher claims for every idle slot in one
 * statement, handlers run, and each job is acked on success or retried with exponential backoff
 * on a throw (dead letters once attempts run out), with heartbeats for long handlers; outcomes
 * ready at the same moment commit together with the next claim (`work_fetcher.ts`). On abort it
 * stops claiming and lets in-flight handlers finish within the grace period. This file checks
 * the options; `work_run.ts` runs them.
 *
 * Supervision: a busy database never ends the loop (every write here is a background write,
 * retried while busy); an error of the loop itself (not of a handler) stops claiming and every
 * heartbeat, gives the jobs in hand back at once, and only then rejects.
 *
 * @module
 */

import {
  requireCount,
  requireName,
  requireOptions,
  requireSeconds,
  requireTimerMs,
} from "../db/validate.ts";
import { idlePollMs } from "../wait/wait_loop.ts";
import type { Waker } from "../wait/waker.ts";
import { RETRY_DELAY_DEFAULT_S, WORK_OPTION_KEYS } from "./work_types.ts";
import { GRACE_DEFAULT_MS } from "./work_types.ts";
import type {
  JobHandler,
  WorkOptions,
  WorkResult,
  WorkSettings,
  WorkSource,
} from "./work_types.ts";
import { WorkRun } from "./work_run.ts";

export {
  GRACE_DEFAULT_MS,
  heartbeatEveryMs,
  RETRY_DELAY_DEFAULT_S,
  RETRY_DELAY_MAX_S,
  WORK_OPTION_KEYS,
} from "./work_types.ts";
export type { JobContext, JobHandler, WorkOptions, WorkResult, WorkSource } from "./work_types.ts";

function settings<T>(queueName: string, handler: JobHandler<T>, options?: WorkOptions<T>) {
  const action = `work on queue ${JSON.stringify(queueName)}`;
  if (typeof handler !== "function") {
    throw new TypeError(`Cannot ${action}: the handler must be a function`);
  }
  const opts = requireOptions(options, action, WORK_OPTION_KEYS);
  if (opts.onError !== undefined && typeof opts.onError !== "function") {
    throw new TypeError(`Cannot ${action}: onError must be a function`);
  }
  const s: WorkSettings<T> = {
    action,
    handler,
    concurrency: requireCount(opts.concurrency ?? 1, "concurrency", action),
    workerId: requireName(
      opts.workerId ?? `work-${crypto.randomUUID().slice(0, 8)}`,
      "workerId",
      action,
    ),
    retryDelayS: requireSeconds(opts.retryDelayS ?? RETRY_DELAY_DEFAULT_S, "retryDelayS", action),
    graceMs: requireTimerMs(opts.graceMs ?? GRACE_DEFAULT_MS, "graceMs", action, true),
    idleMs: idlePollMs(opts.idlePollMs, action),
    onError: opts.onError,
  };
  return { s, signal: opts.signal };
}

/** Runs `handler` over the queue until `signal` aborts; see `Queue.work()`. */
export async function work<T>(
  queue: WorkSource<T>,
  waker: Waker,
  handler: JobHandler<T>,
  options?: WorkOptions<T>,
): Promise<WorkResult> {
  const { s, signal } = settings(queue.name, handler, options);
  const run = new WorkRun(queue, waker, s);
  return await run.until(signal);
}
