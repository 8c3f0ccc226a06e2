/**
 * The bridges' retry: every failure is retried, after a doubling delay, until it succeeds or the
 * signal aborts. A publish is retried with the same message id, so a retry after a lost
 * acknowledgement stores nothing twice.
 *
 * @module
 */

import { sleep } from "../core/wait/sleep.ts";

/** First retry delay, in milliseconds. */
export const RETRY_DELAY_MIN_MS = 50;
/** Longest delay between retries, in milliseconds: a leader election takes 2–11 s. */
export const RETRY_DELAY_MAX_MS = 1_000;

/**
 * Runs `attempt` until it resolves; returns its value, or undefined when `signal` aborted first.
 * Each failure goes to `onError` before the next try.
 */
export async function retryUntilDone<T>(
  attempt: () => Promise<T>,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<T | undefined> {
  let delayMs = RETRY_DELAY_MIN_MS;
  while (!signal.aborted) {
    try {
      return await attempt();
    } catch (error) {
      if (signal.aborted) return undefined;
      onError(error);
      await sleep(delayMs * (0.75 + Math.random() / 2), signal);
      delayMs = Math.min(delayMs * 2, RETRY_DELAY_MAX_MS);
    }
  }
  return undefined;
}
