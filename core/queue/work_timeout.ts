/**
 * A job attempt's timeout (`timeoutS`): at the deadline the handler's signal aborts with a
 * `JobTimeoutError` and the attempt counts as failed, whether or not the handler stops; what it
 * returns later is ignored.
 *
 * @module
 */

import { requireCount, TIMER_MAX_MS } from "../db/validate.ts";

/** The longest `timeoutS` a timer can keep: about 24.8 days. */
export const TIMEOUT_MAX_S: number = Math.floor(TIMER_MAX_MS / 1000);

/**
 * The error a timed-out attempt fails with: its handler's signal aborts with it, `onError` and
 * the worker's `failed` event get it, and the dead letter's `lastError` names it.
 */
export class JobTimeoutError extends Error {
  /** The job that ran too long. */
  readonly jobId: number;
  /** The timeout it ran past, in seconds. */
  readonly timeoutS: number;

  /** @internal Made by the worker at the deadline. */
  constructor(jobId: number, timeoutS: number) {
    super(`job ${jobId} ran past its timeout of ${timeoutS} s`);
    this.name = "JobTimeoutError";
    this.jobId = jobId;
    this.timeoutS = timeoutS;
  }
}

/** Checks a `timeoutS` option: whole seconds from 1 to TIMEOUT_MAX_S. */
export function requireTimeoutS(value: unknown, action: string): number {
  const timeoutS = requireCount(value, "timeoutS", action);
  if (timeoutS > TIMEOUT_MAX_S) {
    throw new RangeError(
      `Cannot ${action}: timeoutS must be at most ${TIMEOUT_MAX_S} (about 24.8 days), got ${timeoutS}`,
    );
  }
  return timeoutS;
}

/**
 * Settles like `running`, or rejects with a JobTimeoutError after `timeoutS` (then `done` aborts
 * with it too, which tells the handler and stops its heartbeat). Without a timeout, `running`.
 * When `done` aborts for another reason (the claim was lost, the worker gave the job back) the
 * attempt's fate is settled elsewhere: the timer is cleared, so it never keeps a closing process
 * alive.
 */
export function withTimeout(
  running: PromiseLike<unknown>,
  timeoutS: number | undefined,
  done: AbortController,
  jobId: number,
): PromiseLike<unknown> {
  if (timeoutS === undefined) return running;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new JobTimeoutError(jobId, timeoutS);
      done.abort(error);
      reject(error);
    }, timeoutS * 1000);
    done.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    running.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
