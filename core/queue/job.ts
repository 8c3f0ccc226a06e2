/**
 * A claimed job and what its holder can do with it.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { JobRow } from "./job_rows.ts";
import type { SqliteDriver } from "../db/driver.ts";
import {
  ackJob,
  ackJobsReturningIds,
  failJob,
  heartbeatJob,
  isJobHeld,
  releaseJob,
  retryJob,
  unclaimJobs,
} from "./ops.ts";
import { requireSeconds, requireText } from "../db/validate.ts";
import { hasPendingResult, recordFailure, saveProgress, storeResultOfAck } from "./job_outcome.ts";
import { toJsonText } from "../db/json.ts";

/**
 * What the holder of a job did with it: acked it, retried it (back to pending, or dead when out
 * of attempts), failed it (dead), or released it (work() gave it back unfinished after an error
 * of its own).
 */
export type JobOutcome = "acked" | "retried" | "failed" | "released";

/**
 * A job claimed by a worker. Its methods report whether the claim was still this worker's:
 * `false` means the claim expired and someone else may hold the job now, or it was cancelled.
 *
 * @typeParam T The payload type.
 *
 * @example Handle one job
 * ```ts ignore
 * const job = queue.claimOne("worker-1");
 * if (job) {
 *   try {
 *     await send(job.payload);
 *     job.ack();
 *   } catch (error) {
 *     job.retry(30, String(error));
 *   }
 * }
 * ```
 */
export class Job<T = unknown> {
  /** The job id (the `_honker_live` rowid; dead rows keep it). */
  readonly id: number;
  /** The queue it was claimed from. */
  readonly queue: string;
  /** The decoded payload. */
  readonly payload: T;
  /** The worker holding the claim. */
  readonly workerId: string;
  /** How many times it has been claimed, this claim included. */
  readonly attempts: number;
  /** The claim budget; at `attempts >= maxAttempts` a retry sends it to the dead letters. */
  readonly maxAttempts: number;
  /** Higher is claimed first. */
  readonly priority: number;
  /** Unix seconds it became due. */
  readonly runAt: number;
  /** Unix seconds it was enqueued. */
  readonly createdAt: number;
  /** Unix seconds after which it can no longer be claimed, or null. */
  readonly expiresAt: number | null;
  /** Unix seconds the claim lasts until (inclusive); updated by `heartbeat()`. */
  claimExpiresAt: number;
  #ctx: DatabaseContext;
  #visibilityTimeoutS: number;
  #outcome: JobOutcome | null = null;
  #uncertain = false;

  /** @internal Made by Queue from a claimed row. */
  constructor(ctx: DatabaseContext, row: JobRow, payload: T, visibilityTimeoutS: number) {
    this.#ctx = ctx;
    this.#visibilityTimeoutS = visibilityTimeoutS;
    this.id = row.id;
    this.queue = row.queue;
    this.payload = payload;
    this.workerId = row.worker_id ?? "";
    this.attempts = row.attempts;
    this.maxAttempts = row.max_attempts;
    this.priority = row.priority;
    this.runAt = row.run_at;
    this.createdAt = row.created_at;
    this.expiresAt = row.expires_at;
    this.claimExpiresAt = row.claim_expires_at ?? 0;
  }

  #action(verb: string): string {
    return `${verb} job ${this.id} of queue "${this.queue}"`;
  }

  /** Runs `write` as the application's own call, or as a background write of work(). */
  #write<R>(action: string, background: boolean, write: (driver: SqliteDriver) => R): R {
    return this.#ctx.write(action, write, background);
  }

  /** Marks the job done and deletes it. Returns false if the claim was no longer ours. */
  ack(): boolean {
    return this.#ack(false);
  }

  #ack(background: boolean): boolean {
    const changed = this.#write(
      this.#action("ack"),
      background,
      (driver) =>
        hasPendingResult(this)
          ? this.#ctx.transactions.atomic(() => {
            const acked = ackJob(driver, this.id, this.workerId);
            if (acked > 0) storeResultOfAck(driver, this);
            return acked;
          })
          : ackJob(driver, this.id, this.workerId),
    );
    return this.#settle("acked", changed);
  }

  /**
   * What this holder did with the job: `"acked"`, `"retried"` (back to pending, or dead when out
   * of attempts), `"failed"`, or null while it is still held. `work()` reads it, so a handler may
   * ack inside its own `db.transaction`, together with the writes that are its side effects.
   */
  get outcome(): JobOutcome | null {
    return this.#outcome;
  }

  #settle(outcome: JobOutcome, changed: number): boolean {
    if (changed === 0) return false;
    // Inside the application's own transaction the application decides: it may still roll back.
    this.#uncertain = this.#ctx.transactions.insideForeign;
    // Inside a transaction the outcome holds only once it commits: a rollback undoes the ack.
    const tx = this.#ctx.transactions.current;
    if (tx) tx.onCommit(() => (this.#outcome = outcome));
    else this.#outcome = outcome;
    // An ack or a fail frees nothing a waiting loop looks for: only change feeds hear of it.
    this.#ctx.wrote(outcome === "acked" || outcome === "failed" ? "quiet" : undefined);
    return true;
  }

  /**
   * Puts the job back to pending after `delayS`, or into the dead letters with `error` when its
   * attempts are used up. Returns false if the claim was no longer ours.
   */
  retry(delayS = 60, error = ""): boolean {
    return this.#retry(delayS, error, false);
  }

  #retry(delayS: number, error: string, background: boolean): boolean {
    const action = this.#action("retry");
    requireSeconds(delayS, "delayS", action);
    requireText(error, "error", action);
    const changed = this.#write(
      action,
      background,
      (driver) =>
        this.#ctx.transactions.atomic(() => {
          recordFailure(driver, this, error);
          return retryJob(driver, this.id, this.workerId, delayS, error);
        }),
    );
    return this.#settle("retried", changed);
  }

  /** Sends the job to the dead letters with `error`. Returns false if the claim was lost. */
  fail(error = ""): boolean {
    const action = this.#action("fail");
    requireText(error, "error", action);
    const driver = this.#ctx.open(action);
    return this.#settle(
      "failed",
      this.#ctx.transactions.atomic(() => {
        recordFailure(driver, this, error);
        return failJob(driver, this.id, this.workerId, error);
      }),
    );
  }

  /**
   * Stores `value` (any JSON) as the job's latest progress, shown by `queue.getJob()` while the
   * job is live, and records a `progress` event when the queue has events on. Returns false if
   * the claim was no longer ours.
   *
   * @throws {TypeError} When `value` is not JSON-serialisable; nothing is written.
   *
   * @example Report how far a long job got
   * ```ts ignore
   * for (const [i, page] of pages.entries()) {
   *   await render(page);
   *   job.progress({ done: i + 1, of: pages.length });
   * }
   * ```
   */
  progress(value: unknown): boolean {
    const action = this.#action("report progress of");
    const text = toJsonText(value, action);
    const driver = this.#ctx.open(action);
    const held = this.#ctx.transactions.atomic(() => saveProgress(driver, this, text));
    if (held) this.#ctx.wrote("quiet");
    return held;
  }

  /**
   * Extends the claim to `extendS` seconds from now (replacing the old expiry). A heartbeat
   * after the claim expired fails, so it can never take the job back from a reclaimer.
   */
  heartbeat(extendS: number = this.#visibilityTimeoutS): boolean {
    return this.#heartbeat(extendS, false);
  }

  #heartbeat(extendS: number, background: boolean): boolean {
    const action = this.#action("heartbeat");
    requireSeconds(extendS, "extendS", action);
    const expiresAt = this.#write(
      action,
      background,
      (driver) => heartbeatJob(driver, this.id, this.workerId, extendS),
    );
    if (expiresAt === undefined) return false;
    this.claimExpiresAt = expiresAt;
    return true;
  }

  /**
   * @internal Whether `outcome` was set inside a transaction the application opened on the
   * shared connection, which may still roll back: `work()` confirms it with `inBackground("held")`
   * once the connection is out of that transaction.
   */
  get outcomeUncertain(): boolean {
    return this.#uncertain;
  }

  /**
   * @internal `work()`'s acks of several jobs claimed by one worker, none with a result to
   * store, in one background statement (inside its batch transaction) where each ack took its
   * own; each job settles as its `ack()` would. Returns, per job, whether it was still held.
   */
  static ackManyInBackground(jobs: readonly Job<unknown>[]): boolean[] {
    const [first] = jobs;
    const workerId = first.workerId;
    if (jobs.some((job) => job.workerId !== workerId || hasPendingResult(job))) {
      throw new TypeError("ackManyInBackground: jobs of one worker, without results");
    }
    const acked = first.#write(
      first.#action("ack"),
      true,
      (driver) => ackJobsReturningIds(driver, jobs.map((job) => job.id), workerId),
    );
    return jobs.map((job) => job.#settle("acked", acked.has(job.id) ? 1 : 0));
  }

  /**
   * @internal `work()` giving back jobs it claimed ahead (`prefetch`) and never started, in one
   * background statement: each is pending again as if never claimed (its attempt refunded) and
   * settles as `released`. Returns, per job, whether it was still held.
   */
  static unclaimManyInBackground(jobs: readonly Job<unknown>[]): boolean[] {
    const [first] = jobs;
    const workerId = first.workerId;
    if (jobs.some((job) => job.workerId !== workerId)) {
      throw new TypeError("unclaimManyInBackground: jobs of one worker");
    }
    const given = first.#write(
      first.#action("give back"),
      true,
      (driver) => unclaimJobs(driver, jobs.map((job) => job.id), workerId),
    );
    return jobs.map((job) => job.#settle("released", given.has(job.id) ? 1 : 0));
  }

  /**
   * @internal What `work()` does with the job on its own, as background writes: each waits only
   * briefly for the write lock and throws a transient SqliteError when the database is busy, for
   * work() to retry without stopping the event loop. `release` expires the claim now, exactly as
   * if its visibility timeout had run out, so the job is claimed again at once (and dead-lettered
   * by that claim when its attempts are used up, as after a timeout).
   */
  inBackground(
    step: "ack" | "heartbeat" | "release" | "held" | { retryDelayS: number; error: string },
  ): boolean {
    if (step === "ack") return this.#ack(true);
    if (step === "held") {
      return this.#ctx.background(
        this.#action("check the claim on"),
        (driver) => isJobHeld(driver, this.id, this.workerId),
      );
    }
    if (step === "heartbeat") return this.#heartbeat(this.#visibilityTimeoutS, true);
    if (step === "release") {
      const changed = this.#ctx.background(
        this.#action("release"),
        (driver) => releaseJob(driver, this.id, this.workerId),
      );
      return this.#settle("released", changed);
    }
    return this.#retry(step.retryDelayS, step.error, true);
  }
}
