/**
 * Jobs as the pages show them: a page of one queue's jobs in one state, the dead letters of
 * every queue, and one job by id or unique key with what else the file holds about it (its
 * result, events, key and run options).
 *
 * @module
 */

import { JOB_KEY_LIVE_JOB } from "../core/queue/job_keys_sql.ts";
import * as SQL from "./sql.ts";
import type { Snapshot } from "./reads.ts";
import { jobEventsOf } from "./reads_events.ts";
import type { JobEventView } from "./reads_events.ts";

type Row = Record<string, string | number | null>;

/** A job of any state, as the pages show it. */
export interface JobView {
  id: number;
  queue: string;
  state: "pending" | "scheduled" | "processing" | "dead";
  /** The payload as stored (JSON text): rendered as text, never parsed into markup. */
  payload: string;
  priority: number;
  runAt: number;
  workerId: string | null;
  claimExpiresAt: number | null;
  attempts: number;
  maxAttempts: number;
  createdAt: number;
  expiresAt: number | null;
  lastError: string | null;
  diedAt: number | null;
}

function jobView(row: Row, now: number): JobView {
  const live = String(row.state);
  const state = live === "dead"
    ? "dead"
    : live === "processing"
    ? "processing"
    : Number(row.run_at) > now
    ? "scheduled"
    : "pending";
  const orNull = (v: string | number | null | undefined) =>
    v === null || v === undefined ? null : v;
  return {
    id: Number(row.id),
    queue: String(row.queue),
    state,
    payload: String(row.payload),
    priority: Number(row.priority),
    runAt: Number(row.run_at),
    workerId: orNull(row.worker_id) === null ? null : String(row.worker_id),
    claimExpiresAt: orNull(row.claim_expires_at) === null ? null : Number(row.claim_expires_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    createdAt: Number(row.created_at),
    expiresAt: orNull(row.expires_at) === null ? null : Number(row.expires_at),
    lastError: orNull(row.last_error) === null ? null : String(row.last_error),
    diedAt: orNull(row.died_at) === null ? null : Number(row.died_at),
  };
}

/** A state a queue page lists. */
export type PageState = JobView["state"];

/** The states, in the order the queue page's tabs show them. */
export const PAGE_STATES: readonly PageState[] = ["pending", "scheduled", "processing", "dead"];

/** One page of a queue's jobs in one state. */
export function jobPage(
  snap: Snapshot,
  queue: string,
  state: PageState,
  limit: number,
  offset: number,
): JobView[] {
  const table = state === "dead" ? "_honker_dead" : "_honker_live";
  if (!snap.tables.has(table)) return [];
  const params = state === "pending" || state === "scheduled"
    ? [queue, snap.now, limit, offset]
    : [queue, limit, offset];
  return snap.driver.all<Row>(SQL.JOB_PAGE[state], params).map((r) => jobView(r, snap.now));
}

/** One page of every queue's dead letters, latest death first. */
export function deadPage(snap: Snapshot, limit: number, offset: number): JobView[] {
  if (!snap.tables.has("_honker_dead")) return [];
  return snap.driver.all<Row>(SQL.DEAD_PAGE_ALL, [limit, offset]).map((r) => jobView(r, snap.now));
}

/** A job by id, live or dead, or null. */
export function jobById(snap: Snapshot, id: number): JobView | null {
  for (const [table, sql] of [["_honker_live", SQL.LIVE_BY_ID], ["_honker_dead", SQL.DEAD_BY_ID]]) {
    if (!snap.tables.has(table)) continue;
    const row = snap.driver.get<Row>(sql, [id]);
    if (row) return jobView(row, snap.now);
  }
  return null;
}

/** A job's stored result (JSON text), or null. */
export function jobResult(
  snap: Snapshot,
  id: number,
): { value: string | null; createdAt: number } | null {
  if (!snap.tables.has("_honker_results")) return null;
  const row = snap.driver.get<Row>(SQL.RESULT_BY_JOB, [id]);
  return row
    ? { value: row.value === null ? null : String(row.value), createdAt: Number(row.created_at) }
    : null;
}

export type { JobEventView };

/** A job's events, oldest first, found from its creation on (`complete`: the walk was not capped). */
export function jobEvents(
  snap: Snapshot,
  job: JobView | null,
  id: number,
  limit: number,
): { events: JobEventView[]; complete: boolean } {
  return jobEventsOf(snap, id, job === null ? null : job.createdAt, limit);
}

/** The live job of `queue` holding unique key `key`, or null (as `queue.jobIdForKey()`). */
export function jobIdForKey(snap: Snapshot, queue: string, key: string): number | null {
  if (!snap.tables.has("_honker_ts_job_keys") || !snap.tables.has("_honker_live")) return null;
  const row = snap.driver.get<Row>(JOB_KEY_LIVE_JOB, [queue, key]);
  return row ? Number(row.id) : null;
}

/** What else the file says about a job: its unique key and its own run options. */
export function jobFacts(
  snap: Snapshot,
  queue: string,
  id: number,
): Array<[label: string, value: string]> {
  const facts: Array<[string, string]> = [];
  if (snap.tables.has("_honker_ts_job_keys")) {
    // The key table is keyed by (queue, key): the queue bounds the walk to its own keys.
    const key = snap.driver.get<Row>(SQL.JOB_KEY_OF, [queue, id]);
    if (key) {
      const state = Number(key.held) === 1 ? "held" : "freed";
      facts.push(["unique key", `${key.key} (${key.mode}, ${state})`]);
    }
  }
  if (snap.tables.has("_honker_ts_job_options")) {
    const options = snap.driver.get<Row>(SQL.JOB_OPTIONS_OF, [id]);
    if (options?.timeout_s !== null && options?.timeout_s !== undefined) {
      facts.push(["timeout", `${options.timeout_s} s per attempt`]);
    }
    if (options?.backoff !== null && options?.backoff !== undefined) {
      facts.push(["backoff", String(options.backoff)]);
    }
  }
  return facts;
}
