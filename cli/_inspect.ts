/**
 * Plain-SQL reads of honker's tables for the CLI: they need no bootstrap, no SQL
 * functions and no write, so they run on a read-only connection to a file written by any honker
 * binding. A table the file lacks reads as empty.
 *
 * @module
 */

import type { ConsumerInfo, DeadJob, JobInfo, ScheduledTask, SqliteDriver } from "../mod.ts";
import { parseJson } from "../core/db/json.ts";
import {
  DEAD_LIST,
  JOB_LIST_PENDING,
  JOB_LIST_PROCESSING,
  JOB_LIST_SCHEDULED,
  QUEUE_DEAD_COUNTS,
  QUEUE_LIVE_COUNTS,
  SCHEDULE_LIST,
  SCHEDULE_LIST_TS,
  STREAM_CONSUMERS,
  STREAM_TOPICS,
} from "./_inspect_sql.ts";

/** One queue in `stats`. */
export interface QueueSummary {
  name: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  /** Seconds the longest-waiting due job has been due; null when none is. */
  oldestPendingAgeS: number | null;
}

/** One stream in `stats`. */
export interface StreamSummary {
  topic: string;
  /** The highest offset still stored; null when every event was trimmed. */
  lastOffset: number | null;
  events: number;
  consumers: ConsumerInfo[];
}

/** A job of any state, as `jobs` prints it: the API's `JobInfo`, plus the dead letters' fields. */
export interface JobView extends Omit<JobInfo, "state"> {
  state: JobInfo["state"] | "dead";
  lastError: string | null;
  diedAt: number | null;
}

/**
 * A state `jobs --state` lists: `pending` is due now, `scheduled` due later (both are
 * honker's `pending`).
 */
export type ListState = "processing" | "pending" | "scheduled" | "dead";

/** A dead job, as `dead` prints it: the API's `DeadJob`. */
export type DeadView = DeadJob;

type Row = Record<string, string | number | null>;

/** Every queue (found in `_honker_live` or `_honker_dead`) with its counts. */
export function queueSummaries(
  driver: SqliteDriver,
  tables: ReadonlySet<string>,
  now: number,
): QueueSummary[] {
  const queues = new Map<string, QueueSummary>();
  const get = (name: string): QueueSummary => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { name, pending: 0, scheduled: 0, processing: 0, dead: 0, oldestPendingAgeS: null };
      queues.set(name, queue);
    }
    return queue;
  };
  const live = tables.has("_honker_live") ? driver.all<Row>(QUEUE_LIVE_COUNTS, [now]) : [];
  for (const row of live) {
    const queue = get(String(row.queue));
    queue.pending = Number(row.pending);
    queue.scheduled = Number(row.scheduled);
    queue.processing = Number(row.processing);
    queue.oldestPendingAgeS = row.oldest_due_at === null ? null : now - Number(row.oldest_due_at);
  }
  const dead = tables.has("_honker_dead") ? driver.all<Row>(QUEUE_DEAD_COUNTS) : [];
  for (const row of dead) get(String(row.queue)).dead = Number(row.dead);
  return [...queues.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Every stream topic (with events or consumers) with its consumers and their lag. */
export function streamSummaries(
  driver: SqliteDriver,
  tables: ReadonlySet<string>,
): StreamSummary[] {
  const topics = new Map<string, StreamSummary>();
  const get = (topic: string): StreamSummary => {
    let stream = topics.get(topic);
    if (!stream) {
      stream = { topic, lastOffset: null, events: 0, consumers: [] };
      topics.set(topic, stream);
    }
    return stream;
  };
  const hasEvents = tables.has("_honker_stream");
  for (const row of hasEvents ? driver.all<Row>(STREAM_TOPICS) : []) {
    const stream = get(String(row.topic));
    stream.lastOffset = Number(row.last_offset);
    stream.events = Number(row.events);
  }
  if (hasEvents && tables.has("_honker_stream_consumers")) {
    for (const row of driver.all<Row>(STREAM_CONSUMERS)) {
      get(String(row.topic)).consumers.push({
        name: String(row.name),
        offset: Number(row.offset),
        lag: Number(row.lag),
      });
    }
  }
  return [...topics.values()].sort((a, b) => a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0);
}

/** Every schedule, by name (the shape of the API's `ScheduledTask`). */
export function schedules(driver: SqliteDriver, tables: ReadonlySet<string>): ScheduledTask[] {
  if (!tables.has("_honker_scheduler_tasks")) return [];
  const rows = driver.all<Row>(SCHEDULE_LIST);
  if (tables.has("_honker_ts_scheduler_tasks")) {
    rows.push(...driver.all<Row>(SCHEDULE_LIST_TS));
    rows.sort((a, b) => String(a.name) < String(b.name) ? -1 : 1);
  }
  return rows.map((row) => ({
    name: String(row.name),
    queue: String(row.queue),
    schedule: String(row.cron_expr),
    payload: parseJson(row.payload as string | null),
    priority: Number(row.priority),
    expiresS: row.expires_s === null ? null : Number(row.expires_s),
    nextFireAt: Number(row.next_fire_at),
    enabled: row.enabled === undefined || Number(row.enabled) !== 0,
    maxAttempts: row.max_attempts == null ? 3 : Number(row.max_attempts),
  }));
}

function liveView(row: Row): JobView {
  return {
    id: Number(row.id),
    queue: String(row.queue),
    state: row.state === "processing" ? "processing" : "pending",
    priority: Number(row.priority),
    runAt: Number(row.run_at),
    workerId: row.worker_id === null ? null : String(row.worker_id),
    claimExpiresAt: row.claim_expires_at === null ? null : Number(row.claim_expires_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    lastError: null,
    diedAt: null,
    payload: parseJson(row.payload as string),
  };
}

function deadView(row: Row): DeadView {
  return {
    id: Number(row.id),
    queue: String(row.queue),
    payload: parseJson(row.payload as string),
    priority: Number(row.priority),
    runAt: Number(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lastError: row.last_error === null ? null : String(row.last_error),
    createdAt: Number(row.created_at),
    diedAt: Number(row.died_at),
  };
}

/** Dead jobs, of one queue or of all, latest death first. */
export function deadJobs(
  driver: SqliteDriver,
  tables: ReadonlySet<string>,
  queue: string | null,
  limit: number,
): DeadView[] {
  if (!tables.has("_honker_dead")) return [];
  return driver.all<Row>(DEAD_LIST, [queue, limit]).map(deadView);
}

/**
 * Jobs of a queue in the given states: processing, then pending (due) in claim order, then
 * scheduled, soonest first, then dead.
 */
export function queueJobs(
  driver: SqliteDriver,
  tables: ReadonlySet<string>,
  queue: string,
  states: ReadonlyArray<ListState>,
  limit: number,
): JobView[] {
  const jobs: JobView[] = [];
  const left = () => limit - jobs.length;
  if (tables.has("_honker_live")) {
    const lists: Array<[ListState, string]> = [
      ["processing", JOB_LIST_PROCESSING],
      ["pending", JOB_LIST_PENDING],
      ["scheduled", JOB_LIST_SCHEDULED],
    ];
    for (const [state, sql] of lists) {
      if (states.includes(state) && left() > 0) {
        jobs.push(...driver.all<Row>(sql, [queue, left()]).map(liveView));
      }
    }
  }
  if (states.includes("dead") && left() > 0) {
    jobs.push(
      ...deadJobs(driver, tables, queue, left()).map((dead): JobView => ({
        id: dead.id,
        queue: dead.queue,
        state: "dead",
        priority: dead.priority,
        runAt: dead.runAt,
        workerId: null,
        claimExpiresAt: null,
        attempts: dead.attempts,
        maxAttempts: dead.maxAttempts,
        createdAt: dead.createdAt,
        expiresAt: null,
        lastError: dead.lastError,
        diedAt: dead.diedAt,
        payload: dead.payload,
      })),
    );
  }
  return jobs;
}
