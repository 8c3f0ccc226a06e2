/**
 * The durable work queue: enqueue, claim with a visibility timeout, ack, retry,
 * dead letters. (Job results are keyed by job id alone, so they live on the Database:
 * `results.ts`.)
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { claimBatch, claimInBackground } from "./claiming.ts";
import type { ClaimLook } from "./claiming.ts";
import { claimIterator } from "./claim.ts";
import type { ClaimOptions } from "./claim.ts";
import { changeJobPriority, isPaused, promoteJob, setPaused } from "./controls.ts";
import { listDead, purgeDead, requeueDead } from "./dead_letters.ts";
import { enqueueKeyed, liveJobForKey, sweepJobKeys } from "./job_keys.ts";
import type { UniqueEnqueue } from "./job_keys.ts";
import { checkJobKey, refuseJobKey, requireJobKey } from "./job_keys_options.ts";
import type { JobKeyPlan } from "./job_keys_options.ts";
import type { DeadJob, DeadLettersOptions, PurgeDeadOptions } from "./dead_letters.ts";
import type { Job } from "./job.ts";
import { checkJobsOptions, listJobs } from "./job_list.ts";
import type { JobsOptions, ListedJob } from "./job_list.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import * as ops from "./ops.ts";
import { requireSchema, validateForRead, validateForWrite } from "../db/standard_schema.ts";
import {
  checkEnqueueOptions,
  MAX_ATTEMPTS_DEFAULT,
  QUEUE_OPTION_KEYS,
  VISIBILITY_TIMEOUT_DEFAULT_S,
} from "./types.ts";
import type { EnqueueOptions, JobInfo, QueueOptions, QueueStats } from "./types.ts";
import type { EnqueueTiming } from "./types.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";
import { work } from "./work.ts";
import {
  checkJobRunOptions,
  enqueueWithRunOptions,
  readJobRunOptions,
  saveJobRunOptions,
} from "./job_options.ts";
import type { JobRunOptions } from "./job_options.ts";
import { Worker } from "./worker.ts";
import { batchToJobs } from "./work_batch.ts";
import type { BatchHandler, BatchWorkOptions } from "./work_batch.ts";
import type { JobHandler, WorkOptions, WorkResult } from "./work.ts";
import {
  requireCount,
  requireId,
  requireInteger,
  requireName,
  requireOptions,
} from "../db/validate.ts";
import { jobEvents } from "./events.ts";
import type { JobEvent, JobEventsOptions } from "./events.ts";
import { configureQueueEvents } from "./events_setup.ts";
import { markCancelled, RESULT_TTL_DEFAULT_S } from "./job_outcome.ts";
import { jobInfoOf, readJobStatus } from "./job_status.ts";
import { waitForJob } from "./wait_for.ts";
import type { WaitForOptions } from "./wait_for.ts";

export { MAX_ATTEMPTS_DEFAULT, VISIBILITY_TIMEOUT_DEFAULT_S } from "./types.ts";
export type { EnqueueOptions, JobInfo, QueueOptions, QueueStats } from "./types.ts";
export type { DeadJobInfo, JobListState, JobsOptions, ListedJob } from "./job_list.ts";
export type { UniqueEnqueue } from "./job_keys.ts";

/**
 * A named queue in the database file. Jobs enqueued here can be claimed by any process using
 * honker-ts or honker on the same file.
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
export class Queue<T = unknown, In = T> {
  /** The queue name. */
  readonly name: string;
  /** Seconds a claim lasts. */
  readonly visibilityTimeoutS: number;
  /** Claims a job gets by default. */
  readonly maxAttempts: number;
  /** The payload schema the queue was opened with, if any. */
  readonly schema: StandardSchemaV1<In, T> | undefined;
  /** Seconds a `work()` handler's return value is kept as the job's result (0: forever). */
  readonly resultTtlS: number;
  #ctx: DatabaseContext;

  /** @internal Use `db.queue()`. */
  constructor(ctx: DatabaseContext, name: string, options: QueueOptions<T, In> = {}) {
    const action = `open queue ${JSON.stringify(name)}`;
    this.name = requireName(name, "the queue name", action);
    requireOptions(options, action, QUEUE_OPTION_KEYS);
    this.visibilityTimeoutS = requireCount(
      options.visibilityTimeoutS ?? VISIBILITY_TIMEOUT_DEFAULT_S,
      "visibilityTimeoutS",
      action,
    );
    this.maxAttempts = requireCount(
      options.maxAttempts ?? MAX_ATTEMPTS_DEFAULT,
      "maxAttempts",
      action,
    );
    if (options.schema !== undefined) requireSchema(options.schema, action);
    this.schema = options.schema;
    this.resultTtlS = configureQueueEvents(ctx, this.name, options, RESULT_TTL_DEFAULT_S, action);
    this.#ctx = ctx;
  }

  #action(verb: string): string {
    return `${verb} queue ${JSON.stringify(this.name)}`;
  }

  /**
   * Adds a job. Returns its id. With a schema, the payload is validated and stored as given;
   * claims hand out the schema's output.
   *
   * @throws {TypeError} When the payload is not JSON-serialisable or does not match the schema,
   * or an option is unknown or invalid; nothing is written.
   * @throws {RangeError} For an option out of range (`runAt` in milliseconds …).
   */
  enqueue(payload: In, options?: EnqueueOptions): number {
    const action = this.#action("enqueue to");
    const { tx, timing } = checkEnqueueOptions(options, this.maxAttempts, action);
    const keyed = checkJobKey(options, action);
    const runOptions = checkJobRunOptions(options, action);
    validateForWrite(this.schema, payload, action);
    const text = toJsonText(payload, action);
    if (keyed !== null) {
      return this.#enqueueKeyed(text, keyed, runOptions, timing, tx, action).id;
    }
    const driver = this.#ctx.joinTx(tx, action);
    const id = enqueueWithRunOptions(
      this.#ctx,
      driver,
      runOptions,
      () => ops.enqueueJob(driver, this.name, text, timing),
    );
    this.#ctx.wrote();
    return id;
  }

  /** Adds many jobs in one statement (one transaction). Returns their ids in order. */
  enqueueMany(payloads: readonly In[], options?: EnqueueOptions): number[] {
    const action = this.#action("enqueue to");
    if (!Array.isArray(payloads)) {
      throw new TypeError(`Cannot ${action}: payloads must be an array`);
    }
    const { tx, timing } = checkEnqueueOptions(options, this.maxAttempts, action);
    refuseJobKey(options, action);
    const runOptions = checkJobRunOptions(options, action);
    const texts = payloads.map((payload, i) => {
      const where = `${action} (payload ${i})`;
      validateForWrite(this.schema, payload, where);
      return toJsonText(payload, where);
    });
    const driver = this.#ctx.joinTx(tx, action);
    if (texts.length === 0) return [];
    const ids = enqueueWithRunOptions(
      this.#ctx,
      driver,
      runOptions,
      () => ops.enqueueJobs(driver, this.name, texts, timing),
    );
    this.#ctx.wrote();
    return ids;
  }

  /**
   * Adds a job under a unique key (`options.key`, required), and tells whether it was added:
   * `{ id, created: false }` is a duplicate, dropped (or, with `debounceS`, folded into the
   * pending job). `enqueue()` with a key does the same and returns the id alone. See
   * `JobKeyOptions` for the modes.
   *
   * @throws {TypeError} When the key is missing or invalid, as for `enqueue()`; nothing is written.
   *
   * @example One welcome email per user, however often sign-up is retried
   * ```ts ignore
   * const { id, created } = emails.enqueueUnique({ to }, { key: `welcome:${userId}` });
   * if (!created) console.log(`already queued as job ${id}`);
   * ```
   */
  enqueueUnique(payload: In, options: EnqueueOptions & { key: string }): UniqueEnqueue {
    const action = this.#action("enqueue to");
    const { tx, timing } = checkEnqueueOptions(options, this.maxAttempts, action);
    const keyed = checkJobKey(options, action);
    if (keyed === null) throw new TypeError(`Cannot ${action}: enqueueUnique() needs a key`);
    const runOptions = checkJobRunOptions(options, action);
    validateForWrite(this.schema, payload, action);
    const text = toJsonText(payload, action);
    return this.#enqueueKeyed(text, keyed, runOptions, timing, tx, action);
  }

  #enqueueKeyed(
    text: string,
    plan: JobKeyPlan,
    runOptions: JobRunOptions | undefined,
    timing: EnqueueTiming,
    tx: Transaction | undefined,
    action: string,
  ): UniqueEnqueue {
    const driver = this.#ctx.joinTx(tx, action);
    const out = this.#ctx.transactions.atomic(() => {
      const outcome = enqueueKeyed(driver, this.name, text, timing, plan);
      // A duplicate keeps the options its job was enqueued with.
      if (outcome.created && runOptions !== undefined) {
        saveJobRunOptions(driver, [outcome.id], runOptions);
      }
      return outcome;
    });
    if (out.wrote) this.#ctx.wrote();
    return { id: out.id, created: out.created };
  }

  /**
   * The id of the live job (pending or processing) holding `key` in this queue, or null.
   *
   * @example
   * ```ts ignore
   * const id = emails.jobIdForKey(`welcome:${userId}`);
   * if (id !== null) emails.cancel(id);
   * ```
   */
  jobIdForKey(key: string): number | null {
    const action = this.#action("look up a key of");
    requireJobKey(key, action);
    return liveJobForKey(this.#ctx.open(action), this.name, key);
  }

  /** Claims up to `n` due jobs, highest priority first, for `visibilityTimeoutS`. */
  claimBatch(workerId: string, n: number): Job<T>[] {
    const action = this.#action("claim from");
    requireName(workerId, "workerId", action);
    requireCount(n, "n", action);
    return claimBatch<T>(this.#ctx, this, workerId, n, action);
  }

  /**
   * @internal The claim `claim()` and `work()` make on their own: a background write that throws
   * a transient SqliteError instead of blocking while another process holds the write lock.
   */
  claimInBackground(workerId: string, n: number): ClaimLook<T> {
    return claimInBackground<T>(this.#ctx, this, workerId, n, this.#action("claim from"));
  }

  /**
   * @internal Runs `batch` as one background write in one transaction: work() commits the acks
   * and retries that are ready together with its next claim. Job and claim calls made inside it
   * join it.
   */
  batchInBackground<R>(batch: () => R): R {
    const action = this.#action("settle jobs of");
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
    this.#ctx.open(this.#action("claim from"));
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
    this.#ctx.open(this.#action("work on"));
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
    this.#ctx.open(this.#action("work on"));
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
    const action = this.#action("work on");
    this.#ctx.open(action);
    const jobs = batchToJobs(handler, options, action);
    return new Worker(this, this.#ctx.waker, jobs.handler, jobs.options);
  }

  /** @internal The run options (timeout, backoff) given at enqueue to those of the jobs that have any. */
  jobRunOptions(jobIds: readonly number[]): Map<number, JobRunOptions> {
    const action = this.#action("read the run options of");
    return this.#ctx.read(action, (driver) => readJobRunOptions(driver, jobIds));
  }

  /**
   * Acks many jobs of this queue held by `workerId`. Returns how many were still held and are
   * now done; an id of another queue's job is not acked (one worker id may serve many queues).
   */
  ackBatch(workerId: string, ids: readonly number[]): number {
    const action = this.#action("ack jobs of");
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
   * Deletes a live job of this queue whoever holds it. Returns false when this queue has no
   * such live job (an id of another queue's job included). honker's SQL `honker_cancel(id)`
   * cancels any queue's job.
   */
  cancel(id: number): boolean {
    const action = this.#action("cancel a job of");
    requireId(id, "id", action);
    const driver = this.#ctx.open(action);
    const done = this.#ctx.transactions.atomic(() => {
      const deleted = ops.cancelQueueJob(driver, this.name, id) > 0;
      if (deleted) markCancelled(driver, this.name, id);
      return deleted;
    });
    if (done) this.#ctx.wrote();
    return done;
  }

  /**
   * Reads a live job of this queue (pending or processing); null once acked, dead, cancelled,
   * unknown or another queue's. With a schema the payload is its output, as a claim gives it.
   *
   * @throws {TypeError} When the stored payload no longer matches the schema.
   */
  getJob(id: number): JobInfo<T> | null {
    const action = this.#action("get a job of");
    requireId(id, "id", action);
    const status = readJobStatus(this.#ctx.open(action), this.name, id);
    return jobInfoOf(status, this.name, id, (text) => {
      const stored = parseJson<unknown>(text);
      return (this.schema === undefined
        ? stored
        : validateForRead(this.schema, stored, `the payload of job ${id}`, action)) as T;
    });
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
    return jobEvents(this.#ctx, this.name, options, this.#action("read events of"));
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
    return waitForJob<R>(this.#ctx, this.name, jobId, options, this.#action("wait for a job of"));
  }

  /**
   * Moves expired pending jobs to the dead letters (reason "expired"). Returns how many. Also
   * deletes up to 1000 stale unique-key rows (their job finished, or a debounce job was claimed,
   * and no throttle window runs; not counted).
   */
  sweepExpired(): number {
    const action = this.#action("sweep expired jobs of");
    const driver = this.#ctx.open(action);
    return this.#ctx.transactions.atomic(() => {
      sweepJobKeys(driver, this.name);
      return ops.sweepExpiredJobs(driver, this.name);
    });
  }

  /** Unix seconds of the next moment a claim could succeed, or 0 when nothing is coming. */
  nextClaimAt(): number {
    return ops.nextClaimAt(this.#ctx.open(this.#action("read the next claim time of")), this.name);
  }

  /**
   * Counts of pending, scheduled, processing and dead jobs (with the retrying and stalled
   * subsets), and whether the queue is paused, in one read.
   */
  stats(): QueueStats {
    return ops.queueStats(this.#ctx.open(this.#action("read stats of")), this.name);
  }

  /**
   * Lists dead jobs of this queue, newest first. Payloads are as enqueued (the schema's input),
   * not validated: a job may be here precisely because its payload does not match.
   */
  deadLetters(options?: DeadLettersOptions): DeadJob<In>[] {
    const action = this.#action("list dead jobs of");
    return listDead<In>(this.#ctx.open(action), this.name, options, action);
  }

  /** Puts a dead job back as a fresh pending job with a new attempts budget. Returns its new id, or null. */
  requeueDead(id: number, options?: { tx?: Transaction }): number | null {
    const action = this.#action("requeue a dead job of");
    requireId(id, "id", action);
    const opts = requireOptions(options, action, ["tx"]);
    const driver = this.#ctx.joinTx(opts.tx, action);
    const newId = this.#ctx.transactions.atomic(() =>
      requeueDead(driver, this.name, id, this.maxAttempts)
    );
    if (newId !== null) this.#ctx.wrote();
    return newId;
  }

  /** Deletes dead jobs of this queue that died at least `olderThanS` seconds ago. */
  purgeDead(options?: PurgeDeadOptions): number {
    const action = this.#action("purge dead jobs of");
    return purgeDead(this.#ctx.open(action), this.name, options, action);
  }

  /**
   * Pauses the queue in every honker-ts process sharing the file: claims (`claimOne`,
   * `claimBatch`, `claim()`, `work()`) take nothing until `resume()`, and idle workers sleep
   * until a commit as on an empty queue. Enqueues still work; running handlers finish. A honker
   * process does not read the flag. Returns false when it was paused already.
   *
   * @example Stop and restart claims during a deploy
   * ```ts ignore
   * emails.pause();
   * // … every worker of "emails", in every process, stops taking jobs
   * emails.resume(); // waiting workers claim at once
   * ```
   */
  pause(): boolean {
    return this.#setPaused(true, this.#action("pause"));
  }

  /**
   * Resumes a paused queue; waiting workers in every process look at once (it is a commit).
   * Returns false when it was not paused.
   *
   * @example
   * ```ts ignore
   * if (emails.isPaused()) emails.resume();
   * ```
   */
  resume(): boolean {
    return this.#setPaused(false, this.#action("resume"));
  }

  #setPaused(paused: boolean, action: string): boolean {
    const driver = this.#ctx.open(action);
    const changed = this.#ctx.transactions.atomic(() => setPaused(driver, this.name, paused));
    if (changed) this.#ctx.wrote();
    return changed;
  }

  /**
   * Whether the queue is paused (by any process).
   *
   * @example
   * ```ts ignore
   * console.log(emails.isPaused());
   * ```
   */
  isPaused(): boolean {
    return isPaused(this.#ctx.open(this.#action("read the settings of")), this.name);
  }

  /**
   * Lists one page of the queue's jobs in one state (`pending` due now, `scheduled`,
   * `processing`, `dead`, or `all`), oldest id first; pass the last id as `after` for the next
   * page. Live payloads are the schema's output, as `getJob()` gives them; dead ones are as
   * stored, as `deadLetters()` gives them.
   *
   * @throws {TypeError} For an unknown state or option, or a stored live payload that no longer
   * matches the schema.
   * @throws {RangeError} For a limit outside 1–1000 or a negative `after`.
   *
   * @example Page through the claimed jobs
   * ```ts ignore
   * let after = 0;
   * for (let page; (page = emails.jobs({ state: "processing", after })).length > 0;) {
   *   for (const job of page) console.log(job.id, job.workerId);
   *   after = page[page.length - 1].id;
   * }
   * ```
   */
  jobs(options?: JobsOptions): ListedJob<T, In>[] {
    const action = this.#action("list jobs of");
    const checked = checkJobsOptions(options, action);
    return listJobs<T, In>(this.#ctx.open(action), this.name, this.schema, checked, action);
  }

  /**
   * Sets the priority of a pending or processing job of this queue (higher is claimed first).
   * Returns false when the queue has no such live job.
   *
   * @example
   * ```ts ignore
   * emails.changePriority(id, 10);
   * ```
   */
  changePriority(id: number, priority: number): boolean {
    const action = this.#action("change a job's priority in");
    requireId(id, "id", action);
    requireInteger(priority, "priority", action);
    const done = changeJobPriority(this.#ctx.open(action), this.name, id, priority);
    if (done) this.#ctx.wrote();
    return done;
  }

  /**
   * Makes a delayed job of this queue due now; a waiting worker claims it at once. Returns false
   * when the queue has no pending job with that id due later.
   *
   * @example
   * ```ts ignore
   * const id = emails.enqueue(payload, { delayS: 3600 });
   * emails.promote(id); // runs now instead
   * ```
   */
  promote(id: number): boolean {
    const action = this.#action("promote a job of");
    requireId(id, "id", action);
    const done = promoteJob(this.#ctx.open(action), this.name, id);
    if (done) this.#ctx.wrote();
    return done;
  }
}
