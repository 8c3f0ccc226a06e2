/**
 * Stream operations over a bare driver, shared by the `Stream` API and honker's
 * `honker_stream_*` SQL functions.
 *
 * @module
 */

import type { SqliteDriver, SqlValue } from "../db/driver.ts";
import {
  CONSUMER_DELETE,
  CONSUMER_GET_OFFSET,
  CONSUMER_SAVE_OFFSET,
  EVENT_INSERT,
  EVENT_INSERT_MANY,
  EVENT_READ_SINCE,
} from "./sql.ts";

/** A `_honker_stream` row of a known topic, as `EVENT_READ_SINCE` selects it. */
export type EventValues = [offset: number, key: string | null, payload: string, createdAt: number];

interface EventRow {
  [column: string]: SqlValue;
  offset: number;
  key: string | null;
  payload: string;
  created_at: number;
}

/** `honker_stream_publish`: returns the new offset. */
export function publishEvent(
  driver: SqliteDriver,
  topic: string,
  key: string | null,
  payload: string,
): number {
  return driver.run(EVENT_INSERT, [topic, key, payload]).lastInsertRowid;
}

/** Many events in one statement; returns their offsets in payload order. */
export function publishEvents(
  driver: SqliteDriver,
  topic: string,
  key: string | null,
  payloads: readonly string[],
): number[] {
  return driver.all<{ offset: number }>(EVENT_INSERT_MANY, [topic, key, JSON.stringify(payloads)])
    .map((row) => row.offset).sort((a, b) => a - b);
}

/**
 * `honker_stream_read_since`: events after `offset`, oldest first. Rows come as arrays where the
 * driver can (this is a replay's hot path), else through `all()`.
 */
export function readEvents(
  driver: SqliteDriver,
  topic: string,
  offset: number,
  limit: number,
): EventValues[] {
  const params = [topic, offset, limit];
  if (driver.values !== undefined) {
    return driver.values(EVENT_READ_SINCE, params) as EventValues[];
  }
  return driver.all<EventRow>(EVENT_READ_SINCE, params)
    .map((row) => [row.offset, row.key, row.payload, row.created_at]);
}

/** `honker_stream_save_offset`: 1 when the offset moved forward, 0 otherwise. */
export function saveConsumerOffset(
  driver: SqliteDriver,
  consumer: string,
  topic: string,
  offset: number,
): number {
  return driver.run(CONSUMER_SAVE_OFFSET, [consumer, topic, offset]).changes > 0 ? 1 : 0;
}

/** `honker_stream_get_offset`: the saved offset, or 0 for an unknown consumer. */
export function getConsumerOffset(driver: SqliteDriver, consumer: string, topic: string): number {
  return driver.get<{ offset: number }>(CONSUMER_GET_OFFSET, [consumer, topic])?.offset ?? 0;
}

/** Deletes a consumer's saved offset; 1 when it existed, 0 otherwise. */
export function removeConsumer(driver: SqliteDriver, consumer: string, topic: string): number {
  return driver.run(CONSUMER_DELETE, [consumer, topic]).changes;
}
