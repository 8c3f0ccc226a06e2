/**
 * A finished handler's outcome on its way to `work()`'s batched commit (`work_fetcher.ts`), and
 * how a batch of them is committed inside that transaction.
 *
 * @module
 */

import { Job } from "./job.ts";
import { hasPendingResult } from "./job_outcome.ts";

/** What a finished handler asks for its job: an ack, or a retry with a delay and an error. */
export type CompletionStep = "ack" | { retryDelayS: number; error: string };

/** One outcome waiting for the next commit, and the promise its handler's slot awaits. */
export interface Completion<T> {
  job: Job<T>;
  step: CompletionStep;
  /** Date.now() after which the claim has surely expired: the write can only report it lost. */
  giveUpAt: number;
  resolve(settled: boolean): void;
  reject(error: unknown): void;
}

/** An ack with no result to store: several of them share one statement. */
function isPlainAck<T>(c: Completion<T>): boolean {
  return c.step === "ack" && !hasPendingResult(c.job);
}

/**
 * Whether `settleAll(batch)` is one statement: several plain acks and nothing else. A single
 * statement is atomic on its own, so without a claim to join it the batch needs no transaction
 * (one autocommit `DELETE` where `BEGIN`, `DELETE` and `COMMIT` took three).
 */
export function settlesInOneStatement<T>(batch: readonly Completion<T>[]): boolean {
  return batch.length >= 2 && batch.every(isPlainAck);
}

/**
 * Commits `batch`'s outcomes in its order of results: plain acks (no result to store) in one
 * statement when there are several, the rest one by one. Inside the batch transaction, or on
 * their own when there is no claim to join and that is one write (see `Fetcher`).
 */
export function settleAll<T>(batch: readonly Completion<T>[]): boolean[] {
  const plain = batch.filter(isPlainAck);
  if (plain.length < 2) return batch.map((c) => c.job.inBackground(c.step));
  const settled = new Map<Completion<T>, boolean>();
  const acked = Job.ackManyInBackground(plain.map((c) => c.job));
  plain.forEach((c, i) => settled.set(c, acked[i]));
  return batch.map((c) => settled.get(c) ?? c.job.inBackground(c.step));
}

/**
 * After a busy database: the outcomes whose claims may still be live, to try again; the others
 * are reported lost now (their claims have surely expired and may have been taken).
 */
export function stillLive<T>(batch: readonly Completion<T>[], now: number): Completion<T>[] {
  return batch.filter((c) => c.giveUpAt > now || (c.resolve(false), false));
}
