/**
 * Reads of honker-ts's job events, progress and queue settings. The events table is keyed by its
 * rowid alone (no index, so that an event costs a claim or an ack one page): ids grow with time,
 * so "the events since a moment" is a binary search of rowid seeks, and every read walks at most
 * EVENTS_SCAN_MAX rows from there; a figure from a capped read is an estimate and says so.
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import * as SQL from "./sql.ts";

/** The most job events one read walks (about 10 ms). */
export const EVENTS_SCAN_MAX = 20_000;

type Row = Record<string, string | number | null>;

/** What the pages need of a read: its connection, tables and SQLite's "now". */
interface Look {
  driver: SqliteDriver;
  tables: ReadonlySet<string>;
  now: number;
}

/** A queue's settings: paused, job events on. */
export interface QueueSetting {
  paused: boolean;
  events: boolean;
}

/** Every queue with a settings row. */
export function queueSettings(look: Look): Map<string, QueueSetting> {
  const out = new Map<string, QueueSetting>();
  if (!look.tables.has("_honker_ts_queues")) return out;
  for (const row of look.driver.all<Row>(SQL.QUEUE_SETTINGS)) {
    out.set(String(row.queue), {
      paused: Number(row.paused ?? 0) !== 0,
      events: Number(row.events ?? 0) !== 0,
    });
  }
  return out;
}

/** The first event id at or after unix second `at` (one past the last when none is). */
export function firstEventSince(driver: SqliteDriver, at: number): number {
  const range = driver.get<Row>(SQL.EVENT_ID_RANGE) ?? {};
  let lo = Number(range.first ?? 0);
  let hi = Number(range.last ?? 0) + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = driver.get<Row>(SQL.EVENT_AT_OR_AFTER, [mid]);
    if (!row) hi = mid;
    else if (Number(row.created_at) >= at) hi = mid;
    else lo = Number(row.id) + 1;
  }
  return lo;
}

/** Outcomes of each queue's jobs over the last `windowS` seconds, from the job events. */
export interface EventOutcomes {
  /** Per queue: completed, dead (died) and failed (an attempt's error) counts. */
  byQueue: Map<string, { completed: number; dead: number; failed: number }>;
  /** Seconds the counts cover: `windowS`, or less when the read was capped. */
  coveredS: number;
  /** True when more than EVENTS_SCAN_MAX events fell in the window (rates from part of it). */
  estimated: boolean;
}

/**
 * Completed, dead and failed jobs per queue in the last `windowS` seconds, or null without
 * events. When the window holds more than EVENTS_SCAN_MAX events, the newest ones are counted
 * and the rates are over the seconds they cover.
 */
export function eventOutcomes(look: Look, windowS: number): EventOutcomes | null {
  if (!look.tables.has("_honker_ts_job_events")) return null;
  const from = firstEventSince(look.driver, look.now - windowS);
  const rows = look.driver.all<Row>(SQL.EVENT_OUTCOMES_NEWEST, [from, EVENTS_SCAN_MAX]);
  const byQueue = new Map<string, { completed: number; dead: number; failed: number }>();
  let read = 0;
  let firstAt = look.now;
  for (const row of rows) {
    read += Number(row.n);
    firstAt = Math.min(firstAt, Number(row.first_at));
    const type = String(row.type);
    if (type !== "completed" && type !== "dead" && type !== "failed") continue;
    const queue = String(row.queue);
    const counts = byQueue.get(queue) ?? { completed: 0, dead: 0, failed: 0 };
    counts[type] += Number(row.n);
    byQueue.set(queue, counts);
  }
  const estimated = read >= EVENTS_SCAN_MAX;
  // Whole seconds: the newest events' first second is partly before them, so count it whole.
  const coveredS = estimated ? Math.min(windowS, Math.max(1, look.now - firstAt + 1)) : windowS;
  return { byQueue, coveredS, estimated };
}

/** One job event, data as stored (JSON text). */
export interface JobEventView {
  id: number;
  type: string;
  data: string | null;
  attempt: number;
  createdAt: number;
}

/**
 * A job's events: those among EVENTS_SCAN_MAX / 2 from its creation on and among the newest
 * EVENTS_SCAN_MAX / 2 (its first and its latest events, however busy the file was between).
 * `complete` is false when the two walks did not meet, so events in between were not searched.
 */
export function jobEventsOf(
  look: Look,
  jobId: number,
  createdAt: number | null,
  limit: number,
): { events: JobEventView[]; complete: boolean } {
  if (!look.tables.has("_honker_ts_job_events")) return { events: [], complete: true };
  const half = EVENTS_SCAN_MAX / 2;
  const range = look.driver.get<Row>(SQL.EVENT_ID_RANGE) ?? {};
  const last = Number(range.last ?? 0);
  const newestFrom = Math.max(Number(range.first ?? 0), last - half + 1);
  const from = createdAt === null ? newestFrom : firstEventSince(look.driver, createdAt);
  const rows = new Map<number, Row>();
  for (const start of from >= newestFrom ? [from] : [from, newestFrom]) {
    for (const row of look.driver.all<Row>(SQL.JOB_EVENTS_FROM, [start, half, jobId, limit])) {
      rows.set(Number(row.id), row);
    }
  }
  return {
    complete: createdAt !== null && newestFrom - from <= half,
    events: [...rows.values()].sort((a, b) => Number(a.id) - Number(b.id)).slice(0, limit).map((
      r,
    ) => ({
      id: Number(r.id),
      type: String(r.type),
      data: r.data === null ? null : String(r.data),
      attempt: Number(r.attempt),
      createdAt: Number(r.created_at),
    })),
  };
}

/** A live job's latest progress (JSON text), or null. */
export function jobProgress(
  look: Look,
  jobId: number,
): { value: string; updatedAt: number } | null {
  if (!look.tables.has("_honker_ts_job_progress")) return null;
  const row = look.driver.get<Row>(SQL.JOB_PROGRESS_OF, [jobId]);
  return row ? { value: String(row.value), updatedAt: Number(row.updated_at) } : null;
}
