/**
 * Waiting for jobs (spec §2.12): claim, and when nothing is due, sleep until the next commit
 * from any process, the next known deadline (`nextClaimAt()`), or the idle poll.
 *
 * @module
 */

import { abortableIterator } from "./_abortable.ts";
import { WatcherDiedError } from "./errors.ts";
import type { Job } from "./job.ts";
import type { Queue } from "./queue.ts";
import { requireName, requireOptions } from "./validate.ts";
import type { Waker } from "./waker.ts";

/** A single sleep never lasts longer, so a suspended machine cannot oversleep a deadline. */
export const SLEEP_CAP_MS = 30_000;
/** Default idle poll: a claim attempt at least this often even without any wake. */
export const IDLE_POLL_DEFAULT_S = 5;

/** Options for `queue.claim()`. */
export interface ClaimOptions {
  /**
   * Seconds between claim attempts when no wake arrives. `null` waits for wakes and deadlines
   * only (still re-checking at least every 30 s). Defaults to 5.
   */
  idlePollS?: number | null;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** Checks idlePollS and returns it in milliseconds (Infinity for null). */
export function idlePollMs(value: number | null | undefined, action: string): number {
  if (value === null) return Infinity;
  const s = value ?? IDLE_POLL_DEFAULT_S;
  if (typeof s !== "number" || !Number.isFinite(s) || s <= 0) {
    throw new RangeError(`Cannot ${action}: idlePollS must be a positive number or null, got ${s}`);
  }
  return s * 1000;
}

/** How long to sleep when the queue has nothing due. */
function sleepMs<T>(queue: Queue<T>, idleMs: number): number {
  const next = queue.nextClaimAt();
  const untilDue = next > 0 ? Math.max(0, next * 1000 - Date.now()) : Infinity;
  return Math.min(idleMs, untilDue, SLEEP_CAP_MS);
}

/**
 * Yields jobs claimed one at a time for `workerId`; see `Queue.claim()`.
 *
 * The wake sequence number is read before every claim attempt and passed to the wait, so a
 * commit landing between "nothing due" and "start waiting" wakes the wait at once.
 */
export function claimIterator<T>(
  queue: Queue<T>,
  waker: Waker,
  workerId: string,
  options?: ClaimOptions,
): AsyncIterableIterator<Job<T>> {
  const action = `claim from queue ${JSON.stringify(queue.name)}`;
  requireName(workerId, "workerId", action);
  const opts = requireOptions(options, action);
  const idleMs = idlePollMs(opts.idlePollS, action);
  return abortableIterator<Job<T>>(async (signal) => {
    while (!signal.aborted && !waker.closed) {
      const since = waker.seq;
      const job = queue.claimOne(workerId);
      if (job) return job;
      try {
        const reason = await waker.wait({ timeoutMs: sleepMs(queue, idleMs), signal, since });
        if (reason === "abort") return undefined;
      } catch (error) {
        // The watcher died: later waits poll on their own, so just go round again.
        if (!(error instanceof WatcherDiedError)) throw error;
      }
    }
    return undefined;
  }, { signal: opts.signal });
}
