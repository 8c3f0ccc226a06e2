/**
 * Reading and controlling a queue's jobs: look one up, list them, count them, cancel, reprioritise
 * or promote one, pause and resume the queue, and its dead letters. The second of the three parts
 * of `Queue` (`queue.ts`).
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { changeJobPriority, isPaused, promoteJob, setPaused } from "./controls.ts";
import { listDead, purgeDead, requeueDead } from "./dead_letters.ts";
import type { DeadJob, DeadLettersOptions, PurgeDeadOptions } from "./dead_letters.ts";
import { sweepJobKeys } from "./job_keys.ts";
import { checkJobsOptions, listJobs } from "./job_list.ts";
import type { JobsOptions, ListedJob } from "./job_list.ts";
import { parseJson } from "../db/json.ts";
import * as ops from "./ops.ts";
import { validateForRead } from "../db/standard_schema.ts";
import type { JobInfo, QueueOptions, QueueStats } from "./types.ts";
import type { Transaction } from "../db/transaction.ts";
import { requireId, requireInteger, requireOptions } from "../db/validate.ts";
import { markCancelled } from "./job_outcome.ts";
import { jobInfoOf, readJobStatus } from "./job_status.ts";
import { queueAction, QueueProducer } from "./queue_producer.ts";

/**
 * Reading and controlling a queue's jobs, the second part of every `Queue` (after
 * {@linkcode QueueProducer}): an application gets a `Queue` from `db.queue()`, never this class
 * alone.
 *
 * @typeParam T The payload type jobs carry (a schema's output).
 * @typeParam In The payload type `enqueue()` takes (a schema's input); T unless a schema
 * transforms.
 */
export class QueueAdmin<T = unknown, In = T> extends QueueProducer<T, In> {
  #ctx: DatabaseContext;

  /** @internal Use `db.queue()`. */
  constructor(ctx: DatabaseContext, name: string, options: QueueOptions<T, In> = {}) {
    super(ctx, name, options);
    this.#ctx = ctx;
  }

  /**
   * Deletes a live job of this queue whoever holds it. Returns false when this queue has no
   * such live job (an id of another queue's job included). honker's SQL `honker_cancel(id)`
   * cancels any queue's job.
   */
  cancel(id: number): boolean {
    const action = queueAction(this.name, "cancel a job of");
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
    const action = queueAction(this.name, "get a job of");
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
   * Moves expired pending jobs to the dead letters (reason "expired"). Returns how many. Also
   * deletes up to 1000 stale unique-key rows (their job finished, or a debounce job was claimed,
   * and no throttle window runs; not counted).
   */
  sweepExpired(): number {
    const action = queueAction(this.name, "sweep expired jobs of");
    const driver = this.#ctx.open(action);
    return this.#ctx.transactions.atomic(() => {
      sweepJobKeys(driver, this.name);
      return ops.sweepExpiredJobs(driver, this.name);
    });
  }

  /** Unix seconds of the next moment a claim could succeed, or 0 when nothing is coming. */
  nextClaimAt(): number {
    return ops.nextClaimAt(
      this.#ctx.open(queueAction(this.name, "read the next claim time of")),
      this.name,
    );
  }

  /**
   * Counts of pending, scheduled, processing and dead jobs (with the retrying and stalled
   * subsets), and whether the queue is paused, in one read.
   */
  stats(): QueueStats {
    return ops.queueStats(this.#ctx.open(queueAction(this.name, "read stats of")), this.name);
  }

  /**
   * Lists dead jobs of this queue, newest first. Payloads are as enqueued (the schema's input),
   * not validated: a job may be here precisely because its payload does not match.
   */
  deadLetters(options?: DeadLettersOptions): DeadJob<In>[] {
    const action = queueAction(this.name, "list dead jobs of");
    return listDead<In>(this.#ctx.open(action), this.name, options, action);
  }

  /** Puts a dead job back as a fresh pending job with a new attempts budget. Returns its new id, or null. */
  requeueDead(id: number, options?: { tx?: Transaction }): number | null {
    const action = queueAction(this.name, "requeue a dead job of");
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
    const action = queueAction(this.name, "purge dead jobs of");
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
    return this.#setPaused(true, queueAction(this.name, "pause"));
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
    return this.#setPaused(false, queueAction(this.name, "resume"));
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
    return isPaused(this.#ctx.open(queueAction(this.name, "read the settings of")), this.name);
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
    const action = queueAction(this.name, "list jobs of");
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
    const action = queueAction(this.name, "change a job's priority in");
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
    const action = queueAction(this.name, "promote a job of");
    requireId(id, "id", action);
    const done = promoteJob(this.#ctx.open(action), this.name, id);
    if (done) this.#ctx.wrote();
    return done;
  }
}
