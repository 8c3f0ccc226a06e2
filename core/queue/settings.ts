/**
 * Reads and writes a queue's shared settings (`_honker_ts_queues`), over a bare driver.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import {
  QUEUE_SETTINGS_GET,
  QUEUE_SETTINGS_SET_EVENTS,
  QUEUE_SETTINGS_SET_PAUSED,
} from "./settings_sql.ts";

/** A queue's shared settings; a queue never configured has every one off. */
export interface QueueSettings {
  /** Claims stop in every honker-ts process (a honker process does not read this). */
  paused: boolean;
  /** Job events are recorded for this queue. */
  events: boolean;
}

/** The queue's settings, defaults when it has no row. */
export function readQueueSettings(driver: SqliteDriver, queue: string): QueueSettings {
  const row = driver.get<{ paused: number; events: number }>(QUEUE_SETTINGS_GET, [queue]);
  return { paused: row?.paused === 1, events: row?.events === 1 };
}

/** Sets `paused`; returns whether it changed. */
export function setQueuePaused(driver: SqliteDriver, queue: string, paused: boolean): boolean {
  if (readQueueSettings(driver, queue).paused === paused) return false;
  driver.run(QUEUE_SETTINGS_SET_PAUSED, [queue, paused ? 1 : 0]);
  return true;
}

/** Sets `events`; returns whether it changed. */
export function setQueueEvents(driver: SqliteDriver, queue: string, events: boolean): boolean {
  if (readQueueSettings(driver, queue).events === events) return false;
  driver.run(QUEUE_SETTINGS_SET_EVENTS, [queue, events ? 1 : 0]);
  return true;
}
