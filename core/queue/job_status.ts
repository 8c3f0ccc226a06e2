/**
 * Where a job of a queue stands, from everything the file keeps of it: its live row, its dead
 * row, its result, its newest event. `queue.getJob()` and `queue.waitFor()` read it.
 *
 * Results carry no queue (honker's `_honker_results` is keyed by job id alone; ids are unique
 * across the file's queues), so a result is taken as this queue's job's when its id was handed
 * out and the job is neither live nor dead in any queue: a completed job of another queue that
 * left a result is reported too (there is no way to tell).
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { parseJson } from "../db/json.ts";
import { lastJobEvent } from "./events.ts";
import { JOB_DEAD_GET, JOB_ID_GONE } from "./events_sql.ts";
import { readProgress } from "./job_outcome.ts";
import { getQueueJobRow, toJobInfo } from "./ops.ts";
import type { JobRow } from "./job_rows.ts";
import type { DeadRow } from "./dead_letters.ts";
import { readResult } from "./results.ts";
import { readQueueSettings } from "./settings.ts";
import type { JobInfo } from "./types.ts";

/** What the file knows of a job of a queue. */
export type JobStatus =
  | { state: "live"; row: JobRow; progress: unknown }
  | { state: "dead"; row: DeadRow | undefined; lastError: string | null }
  | { state: "completed"; result: unknown; attempt: number | undefined }
  | { state: "cancelled" }
  | { state: "unknown" };

/**
 * Reads where job `id` of `queue` stands: primary-key probes, then, only for a job that left
 * without a result on a queue with events on, its newest event (a walk back through the events
 * recorded since it finished).
 */
export function readJobStatus(driver: SqliteDriver, queue: string, id: number): JobStatus {
  const row = getQueueJobRow(driver, queue, id);
  if (row !== undefined) return { state: "live", row, progress: readProgress(driver, id) };
  const dead = driver.get<DeadRow>(JOB_DEAD_GET, [id, queue]);
  if (dead !== undefined) return { state: "dead", row: dead, lastError: dead.last_error };
  const text = readResult(driver, id);
  // A result saved under an id no job of the file had, or of another queue's live or dead job,
  // is not this queue's job's.
  if (text !== null && driver.get(JOB_ID_GONE, [id, id, id]) !== undefined) {
    return { state: "completed", result: parseJson<unknown>(text), attempt: undefined };
  }
  if (!readQueueSettings(driver, queue).events) return { state: "unknown" };
  const event = lastJobEvent(driver, queue, id);
  switch (event?.type) {
    case "cancelled":
      return { state: "cancelled" };
    case "dead": // its dead row was purged, or requeued under a new id: it died all the same
      return { state: "dead", row: undefined, lastError: event.data.error ?? null };
    case "completed":
      return { state: "completed", result: event.data.result, attempt: event.attempt };
    default:
      return { state: "unknown" };
  }
}

/**
 * `queue.getJob()`'s report of a status: null for a cancelled or unknown job. `decode` turns a
 * live row's stored payload into the handed-out one (the schema's output); a dead row's payload
 * is reported as stored, unvalidated, as `deadLetters()` does.
 */
export function jobInfoOf<T>(
  status: JobStatus,
  queue: string,
  id: number,
  decode: (text: string) => T,
): JobInfo<T> | null {
  switch (status.state) {
    case "live": {
      const info = toJobInfo(status.row, decode(status.row.payload));
      if (status.progress !== undefined) info.progress = status.progress;
      return info;
    }
    case "dead": {
      const row = status.row;
      if (row === undefined) return null;
      return {
        id,
        queue,
        payload: parseJson<T>(row.payload),
        state: "dead",
        priority: row.priority,
        runAt: row.run_at,
        workerId: null,
        claimExpiresAt: null,
        attempts: row.attempts,
        maxAttempts: row.max_attempts,
        createdAt: row.created_at,
        expiresAt: null,
        lastError: row.last_error,
      };
    }
    case "completed":
      return {
        id,
        queue,
        payload: undefined as T,
        state: "completed",
        priority: 0,
        runAt: 0,
        workerId: null,
        claimExpiresAt: null,
        attempts: status.attempt ?? 0,
        maxAttempts: 0,
        createdAt: 0,
        expiresAt: null,
        result: status.result,
      };
    default:
      return null;
  }
}
