/**
 * Append-only event streams with durable consumer offsets (spec §4).
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import { CONSUMER_LIST, CONSUMER_MIN_OFFSET, EVENT_COUNT_SINCE, EVENT_TRIM } from "./sql.ts";
import * as ops from "./ops.ts";
import type { EventValues } from "./ops.ts";
import { subscribe } from "./subscription.ts";
import type { SubscribeOptions, Subscription } from "./subscription.ts";
import { requireSchema, validateForRead, validateForWrite } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";
import { waitLoop } from "../wait/wait_loop.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
  requireTimeoutMs,
} from "../db/validate.ts";
import type { StreamEvent } from "./types.ts";

export type { StreamEvent } from "./types.ts";

/**
 * Options for `db.stream()`.
 *
 * @typeParam T The payload type events carry: the schema's output.
 * @typeParam In The payload type `publish()` takes: the schema's input.
 */
export interface StreamOptions<T = unknown, In = T> {
  /**
   * A Standard Schema validator (zod, valibot, arktype …). `publish()` validates the payload (a
   * TypeError before anything is written) and stores it as given; reads validate it again and
   * hand out the schema's output, so a transforming schema is applied exactly once. An event
   * that no longer validates makes the read throw, naming its offset. Must be synchronous.
   */
  schema?: StandardSchemaV1<In, T>;
}

/** Options for `publish()` and `publishMany()`. */
export interface PublishOptions {
  /** Commit together with this open transaction. */
  tx?: Transaction;
  /** A partition key stored with the event. */
  key?: string | null;
}

/** Every key of `PublishOptions`. */
export const PUBLISH_OPTION_KEYS: readonly (keyof PublishOptions)[] = ["tx", "key"];

/** A consumer of a topic, from `consumers()`. */
export interface ConsumerInfo {
  /** The consumer's name. */
  name: string;
  /** Its saved offset. */
  offset: number;
  /** Events published after its saved offset. */
  lag: number;
}

/** Options for `trim()`. */
export interface TrimOptions {
  /** Only events published at least this many seconds ago. */
  olderThanS?: number;
  /** Always keep the newest `keepLast` events. */
  keepLast?: number;
  /** Also delete events a registered consumer has not passed yet. */
  force?: boolean;
}

/** The default page size of `readSince()` when no limit is given. */
export const READ_LIMIT_DEFAULT = 1000;

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
  /** The payload schema, if any. */
  readonly schema: StandardSchemaV1 | undefined;
  #ctx: DatabaseContext;

  /** @internal Use `db.stream()`. */
  constructor(ctx: DatabaseContext, topic: string, options: StreamOptions<T, In> = {}) {
    const action = `open stream ${JSON.stringify(topic)}`;
    this.topic = requireName(topic, "the topic", action);
    const opts = requireOptions(options, action, ["schema"]);
    this.schema = opts.schema === undefined ? undefined : requireSchema(opts.schema, action);
    this.#ctx = ctx;
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

  /** Reads up to `limit` events after `offset`, at once (honker's behaviour). */
  readSince(offset: number, limit?: number): StreamEvent<T>[];
  /**
   * Reads up to `limit` events after `offset`; when there are none yet, waits up to
   * `timeoutMs` milliseconds (at most 2^31 − 1, or `Infinity` for no timeout) for the next
   * commit.
   */
  readSince(
    offset: number,
    limit: number,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<StreamEvent<T>[]>;
  readSince(
    offset: number,
    limit: number = READ_LIMIT_DEFAULT,
    options?: { timeoutMs: number; signal?: AbortSignal },
  ): StreamEvent<T>[] | Promise<StreamEvent<T>[]> {
    const action = this.#action("read");
    requireInteger(offset, "offset", action, 0);
    requireCount(limit, "limit", action);
    if (options === undefined) return this.read(offset, limit);
    const opts = requireOptions(options, action, ["timeoutMs", "signal"]);
    const timeoutMs = requireTimeoutMs(opts.timeoutMs, "timeoutMs", action);
    this.#ctx.open(action); // After close() this throws, where the wait loop would just end.
    return this.#readWaiting(offset, limit, timeoutMs, options.signal);
  }

  async #readWaiting(
    offset: number,
    limit: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<StreamEvent<T>[]> {
    const deadline = Date.now() + timeoutMs;
    const events = await waitLoop(this.#ctx.waker, () => {
      const found = this.read(offset, limit);
      return found.length > 0 || Date.now() >= deadline ? found : undefined;
    }, { signal, sleepMs: () => deadline - Date.now() });
    return events ?? [];
  }

  /** @internal Reads without argument checks (the subscription's hot path). */
  read(offset: number, limit: number): StreamEvent<T>[] {
    const action = this.#action("read");
    const rows = ops.readEvents(this.#ctx.open(action), this.topic, offset, limit);
    const events = new Array<StreamEvent<T>>(rows.length);
    for (let i = 0; i < rows.length; i++) events[i] = toEvent<T>(rows[i], this.topic);
    if (this.schema) { for (const event of events) this.#validate(event, action); }
    return events;
  }

  /** An event that no longer matches the schema stops the reader: events cannot be skipped. */
  #validate(event: StreamEvent<T>, action: string): void {
    const what = `the event at offset ${event.offset}`;
    event.payload = validateForRead(
      this.schema as StandardSchemaV1,
      event.payload,
      what,
      action,
    ) as T;
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
    return subscribe(this, this.#ctx, consumer, options);
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

/** Decodes a stored row of `topic`. */
export function toEvent<T>(row: EventValues, topic: string): StreamEvent<T> {
  return { offset: row[0], topic, key: row[1], payload: parseJson<T>(row[2]), createdAt: row[3] };
}
