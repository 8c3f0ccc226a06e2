/**
 * A finished handler's outcome on its way to `work()`'s batched commit (`work_fetcher.ts`), and
 * the write that commits a batch of them with the next claim: which statements, and whether in
 * one transaction.
 *
 * @module
 */

import type { ClaimLook } from "./claiming.ts";
import { claimWrites } from "./claim_steps.ts";
import type { ClaimLookRow } from "./claim_steps.ts";
import type { ClaimSource } from "./claim.ts";
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

/** What a write turn needs of a queue, besides its claim. */
export interface TurnSource<T> extends ClaimSource<T> {
  /** Runs `batch` as one background write in one transaction. */
  batchInBackground<R>(batch: () => R): R;
  /** The claim's look alone, a read, for `claimInBackground`'s `looked`. */
  lookInBackground(n: number): ClaimLookRow;
}

/** What a write turn did: each outcome's fate (in `batch` order), and the claim's look. */
export interface Written<T> {
  settled: boolean[];
  look: ClaimLook<T> | undefined;
}

/** The claim a write turn makes: `n` jobs (none when 0) for `workerId`. */
export interface TurnClaim {
  workerId: string;
  n: number;
  /** Claim before looking; only when there is no outcome to commit. */
  direct: boolean;
  /** The last look saw more due than its claim took: this claim will find rows. */
  moreDue: boolean;
}

/**
 * One write of the fetcher: `batch`'s outcomes and, when `claim.n` > 0, the next claim, with as
 * few statements as give the same result: the outcomes join the claim's transaction only when
 * the claim writes too.
 */
export function writeTurn<T>(
  source: TurnSource<T>,
  batch: Completion<T>[],
  { workerId, n, direct, moreDue }: TurnClaim,
): Written<T> {
  const claim = (looked?: ClaimLookRow) =>
    n > 0 ? source.claimInBackground(workerId, n, { direct, looked }) : undefined;
  if (batch.length === 0) return { settled: [], look: claim() };
  const oneWrite = batch.length === 1 || settlesInOneStatement(batch);
  // No claim to join, and one outcome (its own write) or several plain acks (one statement):
  // no transaction, which would cost two more statements.
  if (n === 0 && oneWrite) return { settled: settleAll(batch), look: undefined };
  if (n > 0 && oneWrite && !moreDue) {
    // A claim that may find nothing (after a wake for another process's commit, which under
    // load is mostly another worker's claim or ack): look first, outside any transaction.
    // When the claim would write nothing, the outcomes commit alone, in one autocommit
    // statement, where BEGIN, the outcomes, the look and COMMIT took four, with the write
    // lock held across the look.
    const looked = source.lookInBackground(n);
    if (!claimWrites(looked)) return { settled: settleAll(batch), look: claim(looked) };
    return source.batchInBackground(() => ({ settled: settleAll(batch), look: claim(looked) }));
  }
  return source.batchInBackground(() => ({ settled: settleAll(batch), look: claim() }));
}
