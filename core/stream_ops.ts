/**
 * Stream operations over a bare driver (spec §4), shared by the `Stream` API and honker's
 * `honker_stream_*` SQL functions.
 *
 * @module
 */

import type { SqliteDriver } from "./driver.ts";
import {
  CONSUMER_GET_OFFSET,
  CONSUMER_SAVE_OFFSET,
  EVENT_INSERT,
  EVENT_INSERT_MANY,
  EVENT_READ_SINCE,
} from "./stream_sql.ts";

/** A `_honker_stream` row as stored. */
export interface EventRow {
  [column: string]: string | number | null;
  offset: number;
  topic: string;
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

/** `honker_stream_read_since`: events after `offset`, oldest first. */
export function readEvents(
  driver: SqliteDriver,
  topic: string,
  offset: number,
  limit: number,
): EventRow[] {
  return driver.all<EventRow>(EVENT_READ_SINCE, [topic, offset, limit]);
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
