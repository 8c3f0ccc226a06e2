/**
 * The queue's operator controls over a bare driver: pause and resume (shared by every honker-ts
 * process through `_honker_ts_queues`), a job's priority, and promoting a delayed job to now.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { JOB_PROMOTE, JOB_SET_PRIORITY } from "./controls_sql.ts";
import { readQueueSettings, setQueuePaused } from "./settings.ts";

/**
 * Pauses or resumes `queue`; returns whether that changed anything. Must run in a transaction
 * (it reads, then writes).
 */
export function setPaused(driver: SqliteDriver, queue: string, paused: boolean): boolean {
  return setQueuePaused(driver, queue, paused);
}

/** Whether `queue` is paused. */
export function isPaused(driver: SqliteDriver, queue: string): boolean {
  return readQueueSettings(driver, queue).paused;
}

/** Sets the priority of a pending or processing job of `queue`; false when it has none. */
export function changeJobPriority(
  driver: SqliteDriver,
  queue: string,
  id: number,
  priority: number,
): boolean {
  return driver.run(JOB_SET_PRIORITY, [priority, id, queue]).changes > 0;
}

/** Makes a delayed pending job of `queue` due now; false when it has no such job. */
export function promoteJob(driver: SqliteDriver, queue: string, id: number): boolean {
  return driver.run(JOB_PROMOTE, [id, queue]).changes > 0;
}
