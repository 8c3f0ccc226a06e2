/**
 * What the pages show, read with plain SQL from `dashboard/sql.ts`: no bootstrap, no SQL
 * function and no write, so every read works on a read-only connection to a file written by
 * any honker binding. A table the file lacks reads as empty.
 *
 * @module
 */

import type { SqliteDriver } from "../core/db/driver.ts";
import { JOB_KEY_LIVE_JOB } from "../core/queue/job_keys_sql.ts";
import * as SQL from "./sql.ts";
import { eventOutcomes, jobEventsOf, queueSettings } from "./reads_events.ts";
import type { EventOutcomes, JobEventView } from "./reads_events.ts";

/** Seconds of history behind throughput and failure counts. */
export const RATE_WINDOW_S = 300;
/** Lag above this many events is estimated from offsets instead of counted. */
export const COUNT_CAP = 10_000;
/**
 * Above this many dead letters the overview's per-queue dead counts are estimated from the
 * newest ones (honker has no index on the dead letters' queue: grouping them all reads them all).
 */
export const DEAD_SAMPLE = 50_000;

type Row = Record<string, string | number | null>;

/** One read of the file: its connection, its tables, and SQLite's clock at the start. */
export interface Snapshot {
  driver: SqliteDriver;
  tables: ReadonlySet<string>;
  now: number;
}

/** Starts a read: the tables present and SQLite's "now". */
export function snapshot(driver: SqliteDriver): Snapshot {
  const tables = new Set(driver.all<{ name: string }>(SQL.TABLES).map((r) => r.name));
  const now = Number(driver.get<{ now: number }>(SQL.NOW)?.now ?? 0);
  return { driver, tables, now };
}

/** One queue on the overview. */
export interface QueueSummary {
  name: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  /** Seconds the longest-waiting due job has been due; null when none is. */
  oldestPendingAgeS: number | null;
  paused: boolean;
  /**
   * Jobs completed per minute over the last RATE_WINDOW_S, from the job events; null when the
   * queue does not record events.
   */
  completedPerMin: number | null;
  /** Jobs that died in the last RATE_WINDOW_S (from the events when the queue records them). */
  deadRecent: number;
  /** Attempts that failed in the last RATE_WINDOW_S; null without events. */
  failedRecent: number | null;
  /** True when the rates come from part of the window (too many events to read them all). */
  ratesEstimated: boolean;
  /** True when `dead` and `deadRecent` are estimates (more than DEAD_SAMPLE dead letters). */
  deadEstimated: boolean;
}

/** Names in index order, one seek each (`sql` gives the next after its parameter). */
export function skipScan(driver: SqliteDriver, sql: string, column: string): string[] {
  const names: string[] = [];
  let after = "";
  for (;;) {
    const next = driver.get<Row>(sql, [after])?.[column];
    if (next === null || next === undefined) return names;
    names.push(String(next));
    after = String(next);
  }
}

/** The first row of a count query, or an empty row. */
export function count(driver: SqliteDriver, sql: string, params: (string | number)[]): Row {
  return driver.get<Row>(sql, params) ?? {};
}

/** Counts of one queue's live jobs, each an index range. */
function liveCounts(
  snap: Snapshot,
  queue: string,
): Pick<QueueSummary, "pending" | "scheduled" | "processing" | "oldestPendingAgeS"> {
  const { driver, now } = snap;
  const pending = count(driver, SQL.QUEUE_PENDING_COUNT, [queue, now]);
  return {
    pending: Number(pending.n ?? 0),
    oldestPendingAgeS: pending.oldest === null || pending.oldest === undefined
      ? null
      : now - Number(pending.oldest),
    scheduled: Number(count(driver, SQL.QUEUE_SCHEDULED_COUNT, [queue, now]).n ?? 0),
    processing: Number(count(driver, SQL.QUEUE_PROCESSING_COUNT, [queue]).n ?? 0),
  };
}

/**
 * Dead letters per queue: exact up to DEAD_SAMPLE in all; above, the newest DEAD_SAMPLE ids'
 * split by queue, scaled to the total (a b-tree count).
 */
function deadCounts(snap: Snapshot): { dead: Map<string, Row>; estimated: boolean } {
  const dead = new Map<string, Row>();
  const { driver, tables, now } = snap;
  if (!tables.has("_honker_dead")) return { dead, estimated: false };
  const capped = Number(count(driver, SQL.DEAD_TOTAL_CAPPED, [DEAD_SAMPLE + 1]).n ?? 0);
  if (capped <= DEAD_SAMPLE) {
    for (const row of driver.all<Row>(SQL.DEAD_COUNTS, [now - RATE_WINDOW_S])) {
      dead.set(String(row.queue), row);
    }
    return { dead, estimated: false };
  }
  const scale = Number(count(driver, SQL.DEAD_TOTAL, []).n ?? 0) / DEAD_SAMPLE;
  for (const row of driver.all<Row>(SQL.DEAD_COUNTS_SAMPLE, [now - RATE_WINDOW_S, DEAD_SAMPLE])) {
    dead.set(String(row.queue), {
      dead: Math.round(Number(row.dead) * scale),
      recent: Math.round(Number(row.recent) * scale),
    });
  }
  return { dead, estimated: true };
}

/** A queue's rates from the events when it records them, else its dead letters' deaths. */
function rates(
  name: string,
  events: boolean,
  outcomes: EventOutcomes | null,
  deadRecent: number,
): Pick<QueueSummary, "completedPerMin" | "deadRecent" | "failedRecent" | "ratesEstimated"> {
  if (!events || outcomes === null) {
    return { completedPerMin: null, deadRecent, failedRecent: null, ratesEstimated: false };
  }
  const counts = outcomes.byQueue.get(name) ?? { completed: 0, dead: 0, failed: 0 };
  const scale = RATE_WINDOW_S / outcomes.coveredS;
  return {
    completedPerMin: (counts.completed / outcomes.coveredS) * 60,
    deadRecent: Math.round(counts.dead * scale),
    failedRecent: Math.round(counts.failed * scale),
    ratesEstimated: outcomes.estimated,
  };
}

/**
 * Every queue (with live jobs, dead jobs or a settings row) and its counts, by name; with
 * `rates`, also throughput and failures from the job events.
 */
export function queueSummaries(snap: Snapshot, options: { rates: boolean }): QueueSummary[] {
  const { driver, tables } = snap;
  const names = new Set(
    tables.has("_honker_live") ? skipScan(driver, SQL.LIVE_QUEUE_NEXT, "queue") : [],
  );
  const { dead, estimated } = deadCounts(snap);
  for (const name of dead.keys()) names.add(name);
  const settings = queueSettings(snap);
  for (const name of settings.keys()) names.add(name);
  const outcomes = options.rates && [...settings.values()].some((s) => s.events)
    ? eventOutcomes(snap, RATE_WINDOW_S)
    : null;
  return [...names].sort().map((name) => ({
    name,
    ...(tables.has("_honker_live")
      ? liveCounts(snap, name)
      : { pending: 0, scheduled: 0, processing: 0, oldestPendingAgeS: null }),
    dead: Number(dead.get(name)?.dead ?? 0),
    deadEstimated: estimated,
    paused: settings.get(name)?.paused ?? false,
    ...rates(
      name,
      settings.get(name)?.events ?? false,
      outcomes,
      Number(dead.get(name)?.recent ?? 0),
    ),
  }));
}

/**
 * One queue's counts (zeros for a queue the file has never seen), reading that queue only; its
 * rates are left out (null), as the queue page does not show them.
 */
export function queueSummary(snap: Snapshot, name: string): QueueSummary {
  const { driver, tables, now } = snap;
  const dead = tables.has("_honker_dead")
    ? count(driver, SQL.DEAD_COUNT_OF, [now - RATE_WINDOW_S, name])
    : {};
  const setting = queueSettings(snap).get(name);
  return {
    name,
    ...(tables.has("_honker_live")
      ? liveCounts(snap, name)
      : { pending: 0, scheduled: 0, processing: 0, oldestPendingAgeS: null }),
    dead: Number(dead.dead ?? 0),
    deadEstimated: false,
    paused: setting?.paused ?? false,
    ...rates(name, false, null, Number(dead.recent ?? 0)),
  };
}

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
