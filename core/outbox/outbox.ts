/**
 * The transactional outbox: a message is handed to `delivery` only if the
 * transaction that enqueued it committed, and delivery is retried with exponential backoff
 * until it succeeds or its attempts run out (then it waits in the dead letters).
 *
 * @module
 */

import type { Queue } from "../queue/queue.ts";
import type { Transaction } from "../db/transaction.ts";
import { requireCount, requireName, requireOptions, requireSeconds } from "../db/validate.ts";
import type { Job } from "../queue/job.ts";
import type { WorkResult } from "../queue/work.ts";

/** Delivers one message to the outside world (an HTTP call, an email…); throw to retry. */
export type OutboxDelivery<T> = (payload: T, job: Job<T>) => unknown;

/** Options for `db.outbox()`. */
export interface OutboxOptions {
  /** Delivery attempts before a message is dead-lettered. Defaults to 5. */
  maxAttempts?: number;
  /** Seconds before the first retry, doubling each time. Defaults to 5. */
  baseBackoffS?: number;
  /** Seconds a delivery may take before another worker may retry it. Defaults to 60. */
  visibilityTimeoutS?: number;
}

/** Options for `outbox.run()`. */
export interface OutboxRunOptions {
  /** The worker id claims are made under. */
  workerId?: string;
  /** Stops the worker (in-flight deliveries finish first). */
  signal?: AbortSignal;
  /** Deliveries running at once. Defaults to 1. */
  concurrency?: number;
}

/** The queue an outbox named `name` lives in, as honker names it. */
export function outboxQueueName(name: string): string {
  return `_outbox:${name}`;
}

/** Checks outbox arguments; returns the queue options. */
export function outboxQueueOptions(
  name: string,
  delivery: unknown,
  options: OutboxOptions | undefined,
): { maxAttempts: number; visibilityTimeoutS: number; baseBackoffS: number } {
  const action = `open outbox ${JSON.stringify(name)}`;
  requireName(name, "the outbox name", action);
  if (typeof delivery !== "function") {
    throw new TypeError(`Cannot ${action}: delivery must be a function`);
  }
  const opts = requireOptions(options, action, [
    "maxAttempts",
    "baseBackoffS",
    "visibilityTimeoutS",
  ]);
  return {
    maxAttempts: requireCount(opts.maxAttempts ?? 5, "maxAttempts", action),
    visibilityTimeoutS: requireCount(opts.visibilityTimeoutS ?? 60, "visibilityTimeoutS", action),
    baseBackoffS: requireSeconds(opts.baseBackoffS ?? 5, "baseBackoffS", action),
  };
}

/**
 * A transactional outbox. Enqueue inside your business transaction; run a worker that
 * delivers.
 *
 * @typeParam T The message type.
 *
 * @example Send a webhook only if the order committed
 * ```ts ignore
 * const webhooks = db.outbox("webhooks", async (body) => {
 *   const res = await fetch("https://example.com/hook", { method: "POST", body: JSON.stringify(body) });
 *   if (!res.ok) throw new Error(`HTTP ${res.status}`);
 * });
 * db.transaction((tx) => {
 *   tx.run("INSERT INTO orders (id) VALUES (?)", [42]);
 *   webhooks.enqueue({ orderId: 42 }, { tx });
 * });
 * await webhooks.run({ signal });
 * ```
 */
export class Outbox<T = unknown> {
  /** The outbox name (its queue is `_outbox:<name>`). */
  readonly name: string;
  /** The queue holding undelivered messages. */
  readonly queue: Queue<T>;
  #delivery: OutboxDelivery<T>;
  #baseBackoffS: number;

  /** @internal Use `db.outbox()`. */
  constructor(name: string, queue: Queue<T>, delivery: OutboxDelivery<T>, baseBackoffS: number) {
    this.name = name;
    this.queue = queue;
    this.#delivery = delivery;
    this.#baseBackoffS = baseBackoffS;
  }

  /** Adds a message; pass `{ tx }` so it exists only if your transaction commits. */
  enqueue(payload: T, options?: { tx?: Transaction }): number {
    // The queue would also take delayS and the like: refused here, as an outbox has none.
    requireOptions(options, `enqueue to outbox ${JSON.stringify(this.name)}`, ["tx"]);
    return this.queue.enqueue(payload, options);
  }

  /** Delivers messages until `signal` aborts; resolves with what it did. */
  run(options: OutboxRunOptions = {}): Promise<WorkResult> {
    const opts = requireOptions(options, `run outbox ${JSON.stringify(this.name)}`, [
      "workerId",
      "signal",
      "concurrency",
    ]);
    return this.queue.work((job) => this.#delivery(job.payload, job), {
      workerId: opts.workerId,
      signal: opts.signal,
      concurrency: opts.concurrency,
      retryDelayS: this.#baseBackoffS,
    });
  }
}
