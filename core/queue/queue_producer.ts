/**
 * A queue's settings and its producing side: enqueue, enqueue many, enqueue under a unique key.
 * The first of the three parts of `Queue` (`queue.ts`): `QueueAdmin` (`queue_admin.ts`) adds
 * reading and controlling its jobs, and `Queue` claiming and working.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { enqueueKeyed, liveJobForKey } from "./job_keys.ts";
import type { UniqueEnqueue } from "./job_keys.ts";
import { checkJobKey, refuseJobKey, requireJobKey } from "./job_keys_options.ts";
import type { JobKeyPlan } from "./job_keys_options.ts";
import { toJsonText } from "../db/json.ts";
import * as ops from "./ops.ts";
import { requireSchema, validateForWrite } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import {
  checkEnqueueOptions,
  MAX_ATTEMPTS_DEFAULT,
  QUEUE_OPTION_KEYS,
  VISIBILITY_TIMEOUT_DEFAULT_S,
} from "./types.ts";
import type { EnqueueOptions, EnqueueTiming, QueueOptions } from "./types.ts";
import type { Transaction } from "../db/transaction.ts";
import { checkJobRunOptions, enqueueWithRunOptions, saveJobRunOptions } from "./job_options.ts";
import type { JobRunOptions } from "./job_options.ts";
import { requireCount, requireName, requireOptions } from "../db/validate.ts";
import { configureQueueEvents } from "./events_setup.ts";
import { RESULT_TTL_DEFAULT_S } from "./job_outcome.ts";

/** What a queue's error messages say it could not do: `enqueue to queue "emails"`. */
export function queueAction(name: string, verb: string): string {
  return `${verb} queue ${JSON.stringify(name)}`;
}

/**
 * A queue's settings and its producing side, the first part of every `Queue`: an
 * application gets a `Queue` from `db.queue()`, never this class alone.
 *
 * @typeParam T The payload type jobs carry (a schema's output).
 * @typeParam In The payload type `enqueue()` takes (a schema's input); T unless a schema
 * transforms.
 */
export class QueueProducer<T = unknown, In = T> {
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
    const action = queueAction(name, "open");
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

  /**
   * Adds a job. Returns its id. With a schema, the payload is validated and stored as given;
   * claims hand out the schema's output.
   *
   * @throws {TypeError} When the payload is not JSON-serialisable or does not match the schema,
   * or an option is unknown or invalid; nothing is written.
   * @throws {RangeError} For an option out of range (`runAt` in milliseconds …).
   */
  enqueue(payload: In, options?: EnqueueOptions): number {
    const action = queueAction(this.name, "enqueue to");
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
    const action = queueAction(this.name, "enqueue to");
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
    const action = queueAction(this.name, "enqueue to");
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
    const action = queueAction(this.name, "look up a key of");
    requireJobKey(key, action);
    return liveJobForKey(this.#ctx.open(action), this.name, key);
  }
}
