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
  /** Jobs completed in the last RATE_WINDOW_S; null without job events in the file. */
  completedRecent: number | null;
  /** Jobs that died in the last RATE_WINDOW_S. */
  deadRecent: number;
  /** True when `dead` and `deadRecent` are estimates (more than DEAD_SAMPLE dead letters). */
  deadEstimated: boolean;
}

function skipScan(driver: SqliteDriver, sql: string, column: string): string[] {
  const names: string[] = [];
  let after = "";
  for (;;) {
    const next = driver.get<Row>(sql, [after])?.[column];
    if (next === null || next === undefined) return names;
    names.push(String(next));
    after = String(next);
  }
}

function count(driver: SqliteDriver, sql: string, params: (string | number)[]): Row {
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

function pausedQueues(snap: Snapshot): Set<string> {
  if (!snap.tables.has("_honker_ts_queues")) return new Set();
  return new Set(snap.driver.all<Row>(SQL.QUEUES_PAUSED).map((r) => String(r.queue)));
}

function completedRecent(snap: Snapshot): Map<string, number> | null {
  if (!snap.tables.has("_honker_ts_job_events")) return null;
  const out = new Map<string, number>();
  for (const row of snap.driver.all<Row>(SQL.JOB_EVENT_RATES, [snap.now - RATE_WINDOW_S])) {
    if (row.type === "completed") out.set(String(row.queue), Number(row.n));
  }
  return out;
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

/** Every queue (with live jobs, dead jobs or a pause) and its counts, by name. */
export function queueSummaries(snap: Snapshot): QueueSummary[] {
  const { driver, tables } = snap;
  const names = new Set(
    tables.has("_honker_live") ? skipScan(driver, SQL.LIVE_QUEUE_NEXT, "queue") : [],
  );
  const { dead, estimated } = deadCounts(snap);
  for (const name of dead.keys()) names.add(name);
  const paused = pausedQueues(snap);
  for (const name of paused) names.add(name);
  const completed = completedRecent(snap);
  return [...names].sort().map((name) => ({
    name,
    ...(tables.has("_honker_live")
      ? liveCounts(snap, name)
      : { pending: 0, scheduled: 0, processing: 0, oldestPendingAgeS: null }),
    dead: Number(dead.get(name)?.dead ?? 0),
    deadRecent: Number(dead.get(name)?.recent ?? 0),
    deadEstimated: estimated,
    paused: paused.has(name),
    completedRecent: completed === null ? null : completed.get(name) ?? 0,
  }));
}

/** One queue's summary (zeros for a queue the file has never seen), reading that queue only. */
export function queueSummary(snap: Snapshot, name: string): QueueSummary {
  const { driver, tables, now } = snap;
  const dead = tables.has("_honker_dead")
    ? count(driver, SQL.DEAD_COUNT_OF, [now - RATE_WINDOW_S, name])
    : {};
  const completed = completedRecent(snap);
  return {
    name,
    ...(tables.has("_honker_live")
      ? liveCounts(snap, name)
      : { pending: 0, scheduled: 0, processing: 0, oldestPendingAgeS: null }),
    dead: Number(dead.dead ?? 0),
    deadRecent: Number(dead.recent ?? 0),
    deadEstimated: false,
    paused: pausedQueues(snap).has(name),
    completedRecent: completed === null ? null : completed.get(name) ?? 0,
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

/** One job event, data as stored (JSON text). */
export interface JobEventView {
  id: number;
  type: string;
  data: string | null;
  attempt: number;
  createdAt: number;
}

/** A job's events, oldest first (empty without honker-ts's job events table). */
export function jobEvents(snap: Snapshot, id: number, limit: number): JobEventView[] {
  if (!snap.tables.has("_honker_ts_job_events")) return [];
  return snap.driver.all<Row>(SQL.JOB_EVENTS_OF, [id, limit]).map((r) => ({
    id: Number(r.id),
    type: String(r.type),
    data: r.data === null ? null : String(r.data),
    attempt: Number(r.attempt),
    createdAt: Number(r.created_at),
  }));
}

/** A consumer of a stream, with its lag. */
export interface ConsumerView {
  name: string;
  offset: number;
  lag: number;
  /** True when the lag is above COUNT_CAP and estimated from offsets (an upper bound). */
  lagEstimated: boolean;
}

/** One stream. */
export interface StreamSummary {
  topic: string;
  firstOffset: number | null;
  lastOffset: number | null;
  consumers: ConsumerView[];
}

function lagOf(
  snap: Snapshot,
  topic: string,
  offset: number,
  last: number | null,
): [lag: number, estimated: boolean] {
  const counted = Number(
    count(snap.driver, SQL.STREAM_COUNT_AFTER, [topic, offset, COUNT_CAP + 1]).n ?? 0,
  );
  if (counted <= COUNT_CAP) return [counted, false];
  return [Math.max(0, (last ?? offset) - offset), true];
}

/** Every stream topic (with events or consumers), with its consumers and their lag. */
export function streamSummaries(snap: Snapshot): StreamSummary[] {
  const { driver, tables } = snap;
  if (!tables.has("_honker_stream")) return [];
  const streams = new Map<string, StreamSummary>();
  for (const topic of skipScan(driver, SQL.STREAM_TOPIC_NEXT, "topic")) {
    const range = count(driver, SQL.STREAM_RANGE, [topic, topic]);
    streams.set(topic, {
      topic,
      firstOffset: range.first === null ? null : Number(range.first),
      lastOffset: range.last === null ? null : Number(range.last),
      consumers: [],
    });
  }
  if (!tables.has("_honker_stream_consumers")) return [...streams.values()];
  for (const row of driver.all<Row>(SQL.STREAM_CONSUMERS_ALL)) {
    const topic = String(row.topic);
    let stream = streams.get(topic);
    if (!stream) {
      stream = { topic, firstOffset: null, lastOffset: null, consumers: [] };
      streams.set(topic, stream);
    }
    const offset = Number(row.offset);
    const [lag, lagEstimated] = lagOf(snap, topic, offset, stream.lastOffset);
    stream.consumers.push({ name: String(row.name), offset, lag, lagEstimated });
  }
  return [...streams.values()].sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0);
}

/** One stored stream event, payload as stored. */
export interface StreamEventView {
  offset: number;
  key: string | null;
  payload: string;
  createdAt: number;
}

/** A topic's newest events before an offset, newest first. */
export function recentEvents(
  snap: Snapshot,
  topic: string,
  before: number,
  limit: number,
): StreamEventView[] {
  if (!snap.tables.has("_honker_stream")) return [];
  return snap.driver.all<Row>(SQL.STREAM_RECENT, [topic, before, limit]).map((r) => ({
    offset: Number(r.offset),
    key: r.key === null ? null : String(r.key),
    payload: String(r.payload),
    createdAt: Number(r.created_at),
  }));
}

/** One schedule. */
export interface ScheduleView {
  name: string;
  queue: string;
  schedule: string;
  payload: string;
  priority: number;
  nextFireAt: number;
  enabled: boolean;
}

/** Every schedule (honker's and honker-ts's tables), by name. */
export function scheduleList(snap: Snapshot): ScheduleView[] {
  if (!snap.tables.has("_honker_scheduler_tasks")) return [];
  const rows = snap.driver.all<Row>(SQL.SCHEDULES);
  if (snap.tables.has("_honker_ts_scheduler_tasks")) {
    rows.push(...snap.driver.all<Row>(SQL.SCHEDULES_TS));
    rows.sort((a, b) => String(a.name) < String(b.name) ? -1 : 1);
  }
  return rows.map((r) => ({
    name: String(r.name),
    queue: String(r.queue),
    schedule: String(r.cron_expr),
    payload: String(r.payload),
    priority: Number(r.priority),
    nextFireAt: Number(r.next_fire_at),
    enabled: r.enabled === undefined || Number(r.enabled) !== 0,
  }));
}

/** A lock held now. */
export interface LockView {
  name: string;
  owner: string;
  expiresAt: number;
}

/** The locks held now (expired rows left out). */
export function locksHeld(snap: Snapshot): LockView[] {
  if (!snap.tables.has("_honker_locks")) return [];
  return snap.driver.all<Row>(SQL.LOCKS_HELD, [snap.now]).map((r) => ({
    name: String(r.name),
    owner: String(r.owner),
    expiresAt: Number(r.expires_at),
  }));
}

/** Channels that have notifications stored. */
export function channels(snap: Snapshot): string[] {
  if (!snap.tables.has("_honker_notifications")) return [];
  return skipScan(snap.driver, SQL.CHANNEL_NEXT, "channel");
}

/** One notification, payload as stored. */
export interface NotificationView {
  id: number;
  payload: string;
  createdAt: number;
}

function notificationView(r: Row): NotificationView {
  return { id: Number(r.id), payload: String(r.payload), createdAt: Number(r.created_at) };
}

/** A channel's newest notifications, newest first. */
export function recentNotifications(
  snap: Snapshot,
  channel: string,
  limit: number,
): NotificationView[] {
  if (!snap.tables.has("_honker_notifications")) return [];
  return snap.driver.all<Row>(SQL.CHANNEL_RECENT, [channel, limit]).map(notificationView);
}

/** A channel's notifications after an id, oldest first. */
export function notificationsAfter(
  driver: SqliteDriver,
  channel: string,
  afterId: number,
  limit: number,
): NotificationView[] {
  return driver.all<Row>(SQL.CHANNEL_AFTER, [channel, afterId, limit]).map(notificationView);
}

/** A channel's newest id, or 0. */
export function channelLastId(driver: SqliteDriver, channel: string): number {
  return Number(driver.get<Row>(SQL.CHANNEL_LAST_ID, [channel])?.id ?? 0);
}

/** The live job of `queue` holding unique key `key`, or null (as `queue.jobIdForKey()`). */
export function jobIdForKey(snap: Snapshot, queue: string, key: string): number | null {
  if (!snap.tables.has("_honker_ts_job_keys") || !snap.tables.has("_honker_live")) return null;
  const row = snap.driver.get<Row>(JOB_KEY_LIVE_JOB, [queue, key]);
  return row ? Number(row.id) : null;
}

/** What else the file says about a job: its unique key and its own run options. */
export function jobFacts(snap: Snapshot, id: number): Array<[label: string, value: string]> {
  const facts: Array<[string, string]> = [];
  if (snap.tables.has("_honker_ts_job_keys")) {
    const key = snap.driver.get<Row>(SQL.JOB_KEY_OF, [id]);
    if (key) facts.push(["unique key", `${key.key} (${key.mode})`]);
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
