/**
 * The worker loop most applications call: one fetcher claims for every idle slot in one
 * statement, handlers run, and each job is acked on success or retried with backoff on a throw
 * (dead letters once attempts run out), with heartbeats for long handlers and an optional
 * timeout per attempt; outcomes ready at the same moment commit together with the next claim
 * (`work_fetcher.ts`). On abort it stops claiming, lets in-flight handlers finish within the
 * grace period, and gives back the jobs of handlers still running then. `work()` is a Worker
 * (`worker.ts`) stopped by its signal; `work_options.ts` checks the options, `work_run.ts` runs
 * them.
 *
 * Supervision: a busy database never ends the loop (every write here is a background write,
 * retried while busy); an error of the loop itself (not of a handler) stops claiming and every
 * heartbeat, gives the jobs in hand back at once, and only then rejects.
 *
 * @module
 */

import type { Waker } from "../wait/waker.ts";
import type { JobHandler, WorkOptions, WorkResult, WorkSource } from "./work_types.ts";
import { Worker } from "./worker.ts";

export {
  GRACE_DEFAULT_MS,
  heartbeatEveryMs,
  RETRY_DELAY_DEFAULT_S,
  RETRY_DELAY_MAX_S,
  WORK_OPTION_KEYS,
} from "./work_types.ts";
export type { JobContext, JobHandler, WorkOptions, WorkResult, WorkSource } from "./work_types.ts";

/** Runs `handler` over the queue until `signal` aborts; see `Queue.work()`. */
export async function work<T>(
  queue: WorkSource<T>,
  waker: Waker,
  handler: JobHandler<T>,
  options?: WorkOptions<T>,
): Promise<WorkResult> {
  return await new Worker(queue, waker, handler, options).closed;
}
