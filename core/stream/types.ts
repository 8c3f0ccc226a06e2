/**
 * What a stream takes and hands out: its options and its events, shared by the Stream class,
 * its reads and its subscriptions.
 *
 * @module
 */

import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Transaction } from "../db/transaction.ts";

/** One event of a stream. */
export interface StreamEvent<T = unknown> {
  /** Position in the file-wide sequence; increases within a topic, with gaps. */
  offset: number;
  /** The stream's topic. */
  topic: string;
  /** The partition key given at publish, or null. Stored, never interpreted. */
  key: string | null;
  /** The decoded payload. */
  payload: T;
  /** Unix seconds it was published. */
  createdAt: number;
}

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

/** Options for `waitForEvents()`. */
export interface WaitForEventsOptions {
  /** The most events to return. Defaults to 1000, as `readSince()`. */
  limit?: number;
  /**
   * Milliseconds to wait for a first event before resolving with `[]`: 0 up to 2^31 − 1, or
   * `Infinity` (the default) to wait until one arrives or `signal` aborts.
   */
  timeoutMs?: number;
  /** Stops waiting: the promise then resolves with `[]`. */
  signal?: AbortSignal;
}

/** Every key of `WaitForEventsOptions`. */
export const WAIT_FOR_EVENTS_OPTION_KEYS: readonly (keyof WaitForEventsOptions)[] = [
  "limit",
  "timeoutMs",
  "signal",
];

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

/** The default page size of `readSince()` and `waitForEvents()` when no limit is given. */
export const READ_LIMIT_DEFAULT = 1000;
