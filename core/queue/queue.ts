/**
 * The durable work queue: enqueue, claim with a visibility timeout, ack, retry,
 * dead letters. (Job results are keyed by job id alone, so they live on the Database:
 * `results.ts`.) `Queue` comes in three parts, one per file: its settings and enqueueing
 * (`queue_producer.ts`), reading and controlling its jobs (`queue_admin.ts`), and here claiming
 * and working.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { claimBatch, claimInBackground, lookInBackground } from "./claiming.ts";
import type { BackgroundClaimOptions, ClaimLook } from "./claiming.ts";
import type { ClaimLookRow } from "./claim_steps.ts";
import { claimIterator } from "./claim.ts";
import type { ClaimOptions } from "./claim.ts";
import type { Job } from "./job.ts";
import * as ops from "./ops.ts";
import type { QueueOptions } from "./types.ts";
import { work } from "./work.ts";
import { readJobRunOptions } from "./job_options.ts";
import type { JobRunOptions } from "./job_options.ts";
import { Worker } from "./worker.ts";
import { batchToJobs } from "./work_batch.ts";
import type { BatchHandler, BatchWorkOptions } from "./work_batch.ts";
import type { JobHandler, WorkOptions, WorkResult } from "./work.ts";
import { requireCount, requireId, requireName } from "../db/validate.ts";
import { jobEvents } from "./events.ts";
import type { JobEvent, JobEventsOptions } from "./events.ts";
import { waitForJob } from "./wait_for.ts";
import type { WaitForOptions } from "./wait_for.ts";
import { QueueAdmin } from "./queue_admin.ts";
import { queueAction } from "./queue_producer.ts";

export { MAX_ATTEMPTS_DEFAULT, VISIBILITY_TIMEOUT_DEFAULT_S } from "./types.ts";
export type { EnqueueOptions, JobInfo, QueueOptions, QueueStats } from "./types.ts";
export type { DeadJobInfo, JobListState, JobsOptions, ListedJob } from "./job_list.ts";
export type { UniqueEnqueue } from "./job_keys.ts";
export { QueueAdmin } from "./queue_admin.ts";
export { QueueProducer } from "./queue_producer.ts";

/**
 * A named queue in the database file. Jobs enqueued here can be claimed by any process using
 * honker-ts or honker on the same file. Its settings and enqueueing come from
 * {@linkcode QueueProducer}, reading and controlling its jobs from {@linkcode QueueAdmin}; this
 * class adds claiming and working.
 *
 * @typeParam T The payload type jobs carry (a schema's output).
 * @typeParam In The payload type `enqueue()` takes (a schema's input); T unless a schema
 * transforms.
 *
 * @example Enqueue, claim, ack
 * ```ts ignore
 * const emails = db.queue<{ to: string }>("emails");
 * emails.enqueue({ to: "a@example.com" });
 * const job = emails.claimOne("worker-1");
 * if (job) job.ack();
 * ```
 */
export class Queue<T = unknown, In = T> extends QueueAdmin<T, In> {
  #ctx: DatabaseContext;

  /** @internal Use `db.queue()`. */
  constructor(ctx: DatabaseContext, name: string, options: QueueOptions<T, In> = {}) {
    super(ctx, name, options);
    this.#ctx = ctx;
  }

  /** Claims up to `n` due jobs, highest priority first, for `visibilityTimeoutS`. */
  claimBatch(workerId: string, n: number): Job<T>[] {
    const action = queueAction(this.name, "claim from");
    requireName(workerId, "workerId", action);
    requireCount(n, "n", action);
    return claimBatch<T>(this.#ctx, this, workerId, n, action);
  }

  /**
   * @internal The claim `claim()` and `work()` make on their own: a background write that throws
   * a transient SqliteError instead of blocking while another process holds the write lock.
   */
  claimInBackground(
    workerId: string,
    n: number,
    options?: BackgroundClaimOptions,
  ): ClaimLook<T> {
    const action = queueAction(this.name, "claim from");
    return claimInBackground<T>(this.#ctx, this, workerId, n, action, options);
  }

  /** @internal The background claim's look alone, a read (see `lookInBackground`). */
  lookInBackground(n: number): ClaimLookRow {
    return lookInBackground(this.#ctx, this, n, queueAction(this.name, "claim from"));
  }

  /**
   * @internal Runs `batch` as one background write in one transaction: work() commits the acks
   * and retries that are ready together with its next claim. Job and claim calls made inside it
   * join it.
   */
  batchInBackground<R>(batch: () => R): R {
    const action = queueAction(this.name, "settle jobs of");
    return this.#ctx.background(action, () => this.#ctx.transactions.atomic(batch));
  }

  /** Claims the next due job, or returns null when none is due. */
  claimOne(workerId: string): Job<T> | null {
    return this.claimBatch(workerId, 1)[0] ?? null;
  }

  /**
   * Yields jobs as they become due, claimed one at a time for `workerId`. When nothing is due it
   * sleeps until a commit from any process, the next deadline (a delayed job, an expiring
   * claim) or the idle poll. Breaking out of the loop, `return()` or the signal end it at once.
   *
   * @example A worker loop
   * ```ts ignore
   * for await (const job of queue.claim("worker-1", { signal })) {
   *   await handle(job.payload);
   *   job.ack();
   * }
   * ```
   */
  claim(workerId: string, options?: ClaimOptions): AsyncIterableIterator<Job<T>> {
    this.#ctx.open(queueAction(this.name, "claim from"));
    return claimIterator(this, this.#ctx.waker, workerId, options);
  }

  /**
   * Runs `handler` for every job until `options.signal` aborts: acks on success, retries with
   * exponential backoff on a throw (dead letters once attempts run out), heartbeats long
   * handlers. On abort it stops claiming, lets in-flight handlers finish within `graceMs`, and
   * resolves with what it did.
   *
   * @example Process emails with two handlers at a time
   * ```ts ignore
   * const stop = new AbortController();
   * const done = emails.work(async (job) => await send(job.payload), {
   *   concurrency: 2,
   *   signal: stop.signal,
   * });
   * // later: stop.abort(); console.log(await done);
   * ```
   */
  work(handler: JobHandler<T>, options?: WorkOptions<T>): Promise<WorkResult> {
    this.#ctx.open(queueAction(this.name, "work on"));
    return work(this, this.#ctx.waker, handler, options);
  }

  /**
   * Starts a Worker: `work()` as an object with `pause()`, `resume()`, `close({ graceMs })`,
   * live counts and events (`completed`, `failed`, `error`, …). Options as `work()`'s.
   *
   * @example A worker closed on SIGTERM
   * ```ts ignore
   * const worker = emails.worker(async (job) => await send(job.payload), { timeoutS: 30 });
   * worker.addEventListener("failed", (e) => console.warn(`job ${e.detail.job.id}`, e.detail.error));
   * process.on("SIGTERM", () => worker.close({ graceMs: 20_000 }));
   * ```
   */
  worker(handler: JobHandler<T>, options?: WorkOptions<T>): Worker<T> {
    this.#ctx.open(queueAction(this.name, "work on"));
    return new Worker(this, this.#ctx.waker, handler, options);
  }

  /**
   * Starts a Worker whose handler takes up to `size` jobs at once. Each job keeps its own claim,
   * heartbeat and timeout; a return acks them all, a throw retries them all, and an array of one
   * entry per job settles each (an `Error` entry retries that job).
   *
   * @example Insert rows in batches of 100
   * ```ts ignore
   * const worker = rows.batchWorker(async (jobs) => {
   *   db.transaction((tx) => jobs.forEach((job) => insertRow(tx, job.payload)));
   * }, { size: 100 });
   * ```
   */
  batchWorker(handler: BatchHandler<T>, options: BatchWorkOptions<T>): Worker<T> {
    const action = queueAction(this.name, "work on");
    this.#ctx.open(action);
    const jobs = batchToJobs(handler, options, action);
    return new Worker(this, this.#ctx.waker, jobs.handler, jobs.options);
  }

  /** @internal The run options (timeout, backoff) given at enqueue to those of the jobs that have any. */
  jobRunOptions(jobIds: readonly number[]): Map<number, JobRunOptions> {
    const action = queueAction(this.name, "read the run options of");
    return this.#ctx.read(action, (driver) => readJobRunOptions(driver, jobIds));
  }

  /**
   * Acks many jobs of this queue held by `workerId`. Returns how many were still held and are
   * now done; an id of another queue's job is not acked (one worker id may serve many queues).
   */
  ackBatch(workerId: string, ids: readonly number[]): number {
    const action = queueAction(this.name, "ack jobs of");
    requireName(workerId, "workerId", action);
    if (!Array.isArray(ids)) throw new TypeError(`Cannot ${action}: ids must be an array`);
    ids.forEach((id, i) => requireId(id, `ids[${i}]`, action));
    const driver = this.#ctx.open(action);
    if (ids.length === 0) return 0;
    const count = ops.ackQueueJobs(driver, this.name, ids, workerId);
    if (count > 0) this.#ctx.wrote();
    return count;
  }

  /**
   * The queue's job events, in commit order, from every process (honker's too, for what its
   * writes cause): `enqueued`, `active`, `progress`, `failed`, `retried`, `completed` (with the
   * result), `dead`, `cancelled`. Recorded only while the queue has events on (`events: true`).
   * Starts after `since` (defaults to the newest event now); save the last `event.id` handled
   * and pass it as `since` to resume without missing one. Woken by commits, like `claim()`.
   *
   * @example Follow a queue's jobs from another process
   * ```ts ignore
   * const reports = db.queue("reports", { events: true });
   * for await (const event of reports.events({ since: saved, signal })) {
   *   if (event.type === "completed") console.log(event.jobId, event.data.result);
   *   saved = event.id;
   * }
   * ```
   */
  events(options?: JobEventsOptions): AsyncIterableIterator<JobEvent> {
    return jobEvents(this.#ctx, this.name, options, queueAction(this.name, "read events of"));
  }

  /**
   * Waits until job `jobId` of this queue finished, in any process, and resolves with its
   * result (the work() handler's return value, or undefined). Rejects with JobFailedError
   * (`lastError`) when it went to the dead letters, JobNotFoundError when it was cancelled or
   * is unknown, JobWaitTimeoutError after `timeoutMs`, the signal's reason on abort. Woken by
   * commits, not polled; works without events (they tell more: see JobNotFoundError).
   *
   * @example Enqueue and wait for the result
   * ```ts ignore
   * const id = thumbnails.enqueue({ imageId: 7 });
   * const url = await thumbnails.waitFor(id, { timeoutMs: 30_000 });
   * ```
   */
  waitFor<R = unknown>(jobId: number, options?: WaitForOptions): Promise<R> {
    return waitForJob<R>(
      this.#ctx,
      this.name,
      jobId,
      options,
      queueAction(this.name, "wait for a job of"),
    );
  }
}
