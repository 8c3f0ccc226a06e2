/**
 * Append-only event streams with durable consumer offsets.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { toJsonText } from "../db/json.ts";
import { CONSUMER_LIST, CONSUMER_MIN_OFFSET, EVENT_COUNT_SINCE, EVENT_TRIM } from "./sql.ts";
import * as ops from "./ops.ts";
import { eventReader, waitForPage } from "./read.ts";
import type { ReadEvents } from "./read.ts";
import { subscribe } from "./subscription.ts";
import type { SubscribeOptions, Subscription } from "./subscription.ts";
import { requireSchema, validateForWrite } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
  requireTimeoutMs,
} from "../db/validate.ts";
import { PUBLISH_OPTION_KEYS, READ_LIMIT_DEFAULT, WAIT_FOR_EVENTS_OPTION_KEYS } from "./types.ts";
import type {
  ConsumerInfo,
  PublishOptions,
  StreamEvent,
  StreamOptions,
  TrimOptions,
  WaitForEventsOptions,
} from "./types.ts";

export type {
  ConsumerInfo,
  PublishOptions,
  StreamEvent,
  StreamOptions,
  TrimOptions,
  WaitForEventsOptions,
} from "./types.ts";

/**
 * A named topic. Events published here are read by any process using honker-ts or honker on the
 * same file, from any offset, as often as needed.
 *
 * @typeParam T The payload type events carry (a schema's output).
 * @typeParam In The payload type `publish()` takes (a schema's input); T unless a schema
 * transforms.
 *
 * @example Publish and read back
 * ```ts ignore
 * const orders = db.stream<{ id: number }>("orders");
 * orders.publish({ id: 1 });
 * for (const event of orders.readSince(0, 100)) console.log(event.offset, event.payload);
 * ```
 */
export class Stream<T = unknown, In = T> {
  /** The topic name. */
  readonly topic: string;
  /** The payload schema the stream was opened with, if any. */
  readonly schema: StandardSchemaV1<In, T> | undefined;
  #ctx: DatabaseContext;
  #read: ReadEvents<T>;

  /** @internal Use `db.stream()`. */
  constructor(ctx: DatabaseContext, topic: string, options: StreamOptions<T, In> = {}) {
    const action = `open stream ${JSON.stringify(topic)}`;
    this.topic = requireName(topic, "the topic", action);
    const opts = requireOptions(options, action, ["schema"]);
    if (opts.schema !== undefined) requireSchema(opts.schema, action);
    this.schema = opts.schema;
    this.#ctx = ctx;
    this.#read = eventReader<T>(ctx, this.topic, this.schema);
  }

  #action(verb: string): string {
    return `${verb} stream ${JSON.stringify(this.topic)}`;
  }

  #key(options: PublishOptions, action: string): string | null {
    const key = options.key ?? null;
    if (key !== null && typeof key !== "string") {
      throw new TypeError(`Cannot ${action}: key must be a string or null`);
    }
    return key;
  }

  /** Appends an event; returns its offset. With a schema, the payload is stored as given. */
  publish(payload: In, options?: PublishOptions): number {
    const action = this.#action("publish to");
    const opts = requireOptions(options, action, PUBLISH_OPTION_KEYS);
    const key = this.#key(opts, action);
    validateForWrite(this.schema, payload, action);
    const text = toJsonText(payload, action);
    const offset = ops.publishEvent(this.#ctx.joinTx(opts.tx, action), this.topic, key, text);
    this.#ctx.wrote();
    return offset;
  }

  /** Appends many events in one statement; returns their offsets in order. */
  publishMany(payloads: readonly In[], options?: PublishOptions): number[] {
    const action = this.#action("publish to");
    if (!Array.isArray(payloads)) {
      throw new TypeError(`Cannot ${action}: payloads must be an array`);
    }
    const opts = requireOptions(options, action, PUBLISH_OPTION_KEYS);
    const key = this.#key(opts, action);
    const texts = payloads.map((p, i) => {
      const where = `${action} (payload ${i})`;
      validateForWrite(this.schema, p, where);
      return toJsonText(p, where);
    });
    const driver = this.#ctx.joinTx(opts.tx, action);
    if (texts.length === 0) return [];
    const offsets = ops.publishEvents(driver, this.topic, key, texts);
    this.#ctx.wrote();
    return offsets;
  }

  /**
   * Reads up to `limit` events after `offset`, oldest first, at once: `[]` when there are none
   * yet (honker's `read_since`). To wait for the next ones, use `waitForEvents()`.
   */
  readSince(offset: number, limit: number = READ_LIMIT_DEFAULT): StreamEvent<T>[] {
    const action = this.#action("read");
    requireInteger(offset, "offset", action, 0);
    requireCount(limit, "limit", action);
    // The waiting read had a third argument here once: ignoring it would turn a wait into a spin.
    if (arguments.length > 2) {
      throw new TypeError(
        `Cannot ${action}: readSince() takes no options and never waits; to wait for events, ` +
          "use waitForEvents(offset, { limit, timeoutMs })",
      );
    }
    return this.#read(offset, limit);
  }

  /**
   * Resolves with the events after `offset` (up to `limit`, oldest first) as soon as there is at
   * least one, woken by commits from any process; with `[]` when `timeoutMs` passes first (by
   * default it waits as long as it takes), when `signal` aborts or the database closes.
   *
   * @example Follow a topic
   * ```ts ignore
   * let offset = 0;
   * while (!signal.aborted) {
   *   for (const event of await orders.waitForEvents(offset, { signal })) {
   *     handle(event.payload);
   *     offset = event.offset;
   *   }
   * }
   * ```
   */
  waitForEvents(offset: number, options?: WaitForEventsOptions): Promise<StreamEvent<T>[]> {
    const action = this.#action("wait for events of");
    requireInteger(offset, "offset", action, 0);
    const opts = requireOptions(options, action, WAIT_FOR_EVENTS_OPTION_KEYS);
    const limit = requireCount(opts.limit ?? READ_LIMIT_DEFAULT, "limit", action);
    const timeoutMs = requireTimeoutMs(opts.timeoutMs ?? Infinity, "timeoutMs", action);
    this.#ctx.open(action); // After close() this throws, where the wait loop would just end.
    return waitForPage(this.#ctx.waker, this.#read, {
      offset,
      limit,
      timeoutMs,
      signal: opts.signal,
    });
  }

  /**
   * Saves a consumer's offset. Offsets only move forward: saving one at or below the stored
   * offset changes nothing and returns false.
   */
  saveOffset(consumer: string, offset: number, options?: { tx?: Transaction }): boolean {
    const action = this.#action("save an offset of");
    requireName(consumer, "the consumer name", action);
    requireInteger(offset, "offset", action, 0);
    const opts = requireOptions(options, action, ["tx"]);
    const moved =
      ops.saveConsumerOffset(this.#ctx.joinTx(opts.tx, action), consumer, this.topic, offset) > 0;
    if (moved) this.#ctx.wrote();
    return moved;
  }

  /** A consumer's saved offset; 0 when it has none. */
  getOffset(consumer: string): number {
    const action = this.#action("read an offset of");
    requireName(consumer, "the consumer name", action);
    return ops.getConsumerOffset(this.#ctx.open(action), consumer, this.topic);
  }

  /**
   * Yields events from the consumer's saved offset on, waiting for new ones when caught up.
   * At-least-once: an event counts as handled only once you ask for the next one or call
   * `commit()`. Leaving the loop (`break`, a throw in its body, abort) saves what was handled
   * before the event in hand, which is delivered again next time; after a crash only unsaved
   * events are delivered again, and none is ever skipped.
   *
   * @example Commit before breaking out
   * ```ts ignore
   * const events = orders.subscribe("billing");
   * for await (const event of events) {
   *   await bill(event.payload);
   *   if (event.payload.last) {
   *     events.commit(); // without it, this event is delivered again next time
   *     break;
   *   }
   * }
   * ```
   */
  subscribe(consumer: string, options?: SubscribeOptions): Subscription<T> {
    return subscribe({ topic: this.topic, read: this.#read }, this.#ctx, consumer, options);
  }

  /** Events published after the consumer's saved offset. */
  lag(consumer: string): number {
    const action = this.#action("read the lag of");
    requireName(consumer, "the consumer name", action);
    const driver = this.#ctx.open(action);
    const offset = ops.getConsumerOffset(driver, consumer, this.topic);
    return driver.get<{ n: number }>(EVENT_COUNT_SINCE, [this.topic, offset])?.n ?? 0;
  }

  /** Every consumer of this topic with its offset and lag. */
  consumers(): ConsumerInfo[] {
    const driver = this.#ctx.open(this.#action("list consumers of"));
    return driver.all<{ name: string; offset: number; lag: number }>(CONSUMER_LIST, [this.topic])
      .map((row) => ({ name: row.name, offset: row.offset, lag: row.lag }));
  }

  /**
   * Forgets a consumer of this topic: its saved offset goes, so it no longer holds back
   * `trim()`. Returns whether it existed. Use it for a consumer that is gone for good; one that
   * comes back starts again from offset 0 (and a subscription of that name still running here
   * registers it again with its next save).
   *
   * @example Drop a retired consumer, then trim
   * ```ts ignore
   * orders.removeConsumer("old-billing");
   * orders.trim({ olderThanS: 7 * 86_400 });
   * ```
   */
  removeConsumer(consumer: string): boolean {
    const action = this.#action("remove a consumer of");
    requireName(consumer, "the consumer name", action);
    const removed = ops.removeConsumer(this.#ctx.open(action), consumer, this.topic) > 0;
    if (removed) this.#ctx.wrote();
    return removed;
  }

  /**
   * Deletes old events: those at least `olderThanS` old and/or beyond the newest `keepLast`.
   * Events a registered consumer has not passed yet are kept unless `force` (forget a consumer
   * that is gone for good with `removeConsumer()`). Returns how many were deleted.
   */
  trim(options: TrimOptions): number {
    const action = this.#action("trim");
    const opts = requireOptions(options, action, ["olderThanS", "keepLast", "force"]);
    const olderThanS = opts.olderThanS === undefined
      ? null
      : requireSeconds(opts.olderThanS, "olderThanS", action);
    const keepLast = opts.keepLast === undefined
      ? null
      : requireInteger(opts.keepLast, "keepLast", action, 0);
    if (olderThanS === null && keepLast === null) {
      throw new TypeError(`Cannot ${action}: give olderThanS, keepLast or both`);
    }
    const driver = this.#ctx.open(action);
    return this.#ctx.transactions.atomic(() => {
      const protect = opts.force
        ? Number.MAX_SAFE_INTEGER
        : driver.get<{ offset: number | null }>(CONSUMER_MIN_OFFSET, [this.topic])?.offset ??
          Number.MAX_SAFE_INTEGER;
      return driver.run(EVENT_TRIM, [
        this.topic,
        olderThanS,
        olderThanS,
        keepLast,
        this.topic,
        keepLast,
        protect,
      ]).changes;
    });
  }
}
