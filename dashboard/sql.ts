/**
 * The dashboard's SQL: plain reads of honker's tables (and honker-ts's own where present), so
 * that they run on a read-only connection to a file written by any honker binding. Every value
 * is a bound parameter. Counts read a partial index range each (`EXPLAIN QUERY PLAN` is checked
 * by `bench/dashboard_bench.ts`); a count that could read a whole big table is capped, and the
 * page says it is an estimate.
 *
 * @module
 */

import { keyHeld } from "../core/queue/job_keys_sql.ts";

/** honker's and honker-ts's tables present in the file. */
export const TABLES = `SELECT name FROM sqlite_master
  WHERE type = 'table' AND name LIKE '\\_honker%' ESCAPE '\\'`;

/** Whether a table exists. Params: name. */
export const TABLE_EXISTS =
  "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?";

/** SQLite's clock. */
export const NOW = "SELECT unixepoch() AS now";

/**
 * The next queue name after a given one with live jobs (a skip-scan of the claim index, one
 * seek per queue, however many jobs each has). Params: after ('' for the first).
 */
export const LIVE_QUEUE_NEXT = `SELECT min(queue) AS queue FROM _honker_live
  WHERE queue > ? AND state IN ('pending', 'processing')`;

/** Pending jobs of a queue due now, and the oldest due time. Params: queue, now. */
export const QUEUE_PENDING_COUNT = `SELECT count(*) AS n, min(run_at) AS oldest FROM _honker_live
  WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at <= ?`;

/** Pending jobs of a queue due later. Params: queue, now. */
export const QUEUE_SCHEDULED_COUNT = `SELECT count(*) AS n FROM _honker_live
  WHERE queue = ? AND state = 'pending' AND run_at > ?`;

/** Claimed jobs of a queue. Params: queue. */
export const QUEUE_PROCESSING_COUNT = `SELECT count(*) AS n FROM _honker_live
  WHERE queue = ? AND state = 'processing'`;

/**
 * Dead jobs per queue, and those that died since a moment (honker has no index on the dead
 * letters' queue: one scan of the dead letters for every queue at once). Params: since.
 */
export const DEAD_COUNTS = `SELECT queue, count(*) AS dead, sum(died_at >= ?) AS recent
  FROM _honker_dead GROUP BY queue`;

/** How many dead letters there are, counted up to a cap. Params: cap. */
export const DEAD_TOTAL_CAPPED =
  "SELECT count(*) AS n FROM (SELECT 1 FROM _honker_dead LIMIT CAST(? AS INTEGER))";

/** Every dead letter, counted (a b-tree count, no row read). */
export const DEAD_TOTAL = "SELECT count(*) AS n FROM _honker_dead";

/**
 * Dead jobs per queue among the newest ids only: the sample an estimate scales up when there
 * are too many dead letters to group them all. Params: since, sample size.
 */
export const DEAD_COUNTS_SAMPLE = `SELECT queue, count(*) AS dead, sum(died_at >= ?) AS recent
  FROM (SELECT queue, died_at FROM _honker_dead ORDER BY id DESC LIMIT CAST(? AS INTEGER))
  GROUP BY queue`;

/** Dead jobs of one queue, and those that died since a moment. Params: since, queue. */
export const DEAD_COUNT_OF = `SELECT count(*) AS dead, sum(died_at >= ?) AS recent
  FROM _honker_dead WHERE queue = ?`;

/** Queue settings (honker-ts's `_honker_ts_queues`): paused, events on. `*` for older files. */
export const QUEUE_SETTINGS = "SELECT * FROM _honker_ts_queues";

/**
 * The first job event at or after an id (honker-ts's `_honker_ts_job_events`, keyed by its
 * rowid alone: ids grow with time, so a moment is found by a binary search of rowid seeks).
 * Params: id.
 */
export const EVENT_AT_OR_AFTER = `SELECT id, created_at FROM _honker_ts_job_events
  WHERE id >= ? ORDER BY id LIMIT 1`;

/** The first and last job event ids (0 when none). */
export const EVENT_ID_RANGE = `SELECT
    (SELECT coalesce(min(id), 0) FROM _honker_ts_job_events) AS first,
    (SELECT coalesce(max(id), 0) FROM _honker_ts_job_events) AS last`;

/**
 * Outcomes per queue among the newest `limit` events from an id on, and the moment of the
 * oldest event read (the seconds a capped read covers). Params: fromId, limit.
 */
export const EVENT_OUTCOMES_NEWEST = `SELECT queue, type, count(*) AS n, min(created_at) AS first_at
  FROM (SELECT queue, type, created_at FROM _honker_ts_job_events
    WHERE id >= ? ORDER BY id DESC LIMIT CAST(? AS INTEGER))
  GROUP BY queue, type`;

/** A job's events among at most `scan` events from an id on. Params: fromId, scan, jobId, limit. */
export const JOB_EVENTS_FROM = `SELECT id, type, data, attempt, created_at
  FROM (SELECT id, job_id, type, data, attempt, created_at FROM _honker_ts_job_events
    WHERE id >= ? ORDER BY id LIMIT CAST(? AS INTEGER))
  WHERE job_id = CAST(? AS INTEGER) ORDER BY id LIMIT CAST(? AS INTEGER)`;

/** A live job's latest progress (honker-ts's `_honker_ts_job_progress`). Params: job id. */
export const JOB_PROGRESS_OF =
  "SELECT value, updated_at FROM _honker_ts_job_progress WHERE job_id = ?";

const LIVE_COLUMNS = "id, queue, payload, state, priority, run_at, worker_id, " +
  "claim_expires_at, attempts, max_attempts, created_at, expires_at, " +
  "NULL AS last_error, NULL AS died_at";
const DEAD_COLUMNS = "id, queue, payload, 'dead' AS state, priority, run_at, " +
  "NULL AS worker_id, NULL AS claim_expires_at, attempts, max_attempts, created_at, " +
  "NULL AS expires_at, last_error, died_at";

/** A page of a queue's jobs per listed state, in the order a worker meets them. */
export const JOB_PAGE: Readonly<Record<"pending" | "scheduled" | "processing" | "dead", string>> = {
  /** Params: queue, now, limit, offset. */
  pending: `SELECT ${LIVE_COLUMNS} FROM _honker_live
      WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at <= ?
      ORDER BY run_at, id LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`,
  /** Params: queue, now, limit, offset. */
  scheduled: `SELECT ${LIVE_COLUMNS} FROM _honker_live
      WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at > ?
      ORDER BY run_at, id LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`,
  /** Params: queue, limit, offset. */
  processing: `SELECT ${LIVE_COLUMNS} FROM _honker_live
      WHERE queue = CAST(? AS TEXT) AND state = 'processing'
      ORDER BY claim_expires_at, id LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`,
  /** Params: queue, limit, offset. */
  dead: `SELECT ${DEAD_COLUMNS} FROM _honker_dead WHERE queue = CAST(? AS TEXT)
      ORDER BY died_at DESC, id DESC LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`,
};

/** Dead letters of every queue, latest death first. Params: limit, offset. */
export const DEAD_PAGE_ALL = `SELECT ${DEAD_COLUMNS} FROM _honker_dead
  ORDER BY died_at DESC, id DESC LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)`;

/** A live job by id. Params: id. */
export const LIVE_BY_ID = `SELECT ${LIVE_COLUMNS} FROM _honker_live WHERE id = ?`;

/** A dead job by id. Params: id. */
export const DEAD_BY_ID = `SELECT ${DEAD_COLUMNS} FROM _honker_dead WHERE id = ?`;

/** A job's stored result. Params: job id. */
export const RESULT_BY_JOB =
  "SELECT value, created_at, expires_at FROM _honker_results WHERE job_id = ?";

/** The next stream topic after a given one (a skip-scan of the topic index). Params: after. */
export const STREAM_TOPIC_NEXT = "SELECT min(topic) AS topic FROM _honker_stream WHERE topic > ?";

/**
 * A topic's first and last stored offsets: two subqueries, so that each is one seek at an end
 * of the topic's index range (`min()` and `max()` in one SELECT would read the whole range).
 * Params: topic, topic (plain `?` only: not every driver binds numbered ones).
 */
export const STREAM_RANGE = `SELECT
    (SELECT min(offset) FROM _honker_stream WHERE topic = CAST(? AS TEXT)) AS first,
    (SELECT max(offset) FROM _honker_stream WHERE topic = CAST(? AS TEXT)) AS last`;

/** Every consumer. */
export const STREAM_CONSUMERS_ALL = `SELECT topic, name, offset FROM _honker_stream_consumers
  ORDER BY topic, name`;

/** Events of a topic after an offset, counted up to a cap. Params: topic, offset, cap. */
export const STREAM_COUNT_AFTER = `SELECT count(*) AS n FROM (SELECT 1 FROM _honker_stream
  WHERE topic = ? AND offset > ? LIMIT CAST(? AS INTEGER))`;

/** A topic's newest events, newest first. Params: topic, before offset, limit. */
export const STREAM_RECENT = `SELECT offset, key, payload, created_at FROM _honker_stream
  WHERE topic = CAST(? AS TEXT) AND offset < ? ORDER BY offset DESC LIMIT CAST(? AS INTEGER)`;

/** `*`, so that a file from before honker's `enabled`/`max_attempts` migration reads too. */
export const SCHEDULES = "SELECT * FROM _honker_scheduler_tasks ORDER BY name";

/** honker-ts's own schedules that honker's table does not also name. */
export const SCHEDULES_TS = `SELECT * FROM _honker_ts_scheduler_tasks
  WHERE name NOT IN (SELECT name FROM _honker_scheduler_tasks) ORDER BY name`;

/** Locks held (not yet expired). Params: now. */
export const LOCKS_HELD = `SELECT name, owner, expires_at FROM _honker_locks
  WHERE expires_at > ? ORDER BY name`;

/** Channels seen in the notifications (a skip-scan of the channel index). Params: after. */
export const CHANNEL_NEXT =
  "SELECT min(channel) AS channel FROM _honker_notifications WHERE channel > ?";

/** A channel's newest id, or 0. Params: channel. */
export const CHANNEL_LAST_ID = `SELECT coalesce(max(id), 0) AS id FROM _honker_notifications
  WHERE channel = CAST(? AS TEXT)`;

/** A channel's notifications after an id, oldest first. Params: channel, id, limit. */
export const CHANNEL_AFTER = `SELECT id, payload, created_at FROM _honker_notifications
  WHERE channel = CAST(? AS TEXT) AND id > ? ORDER BY id LIMIT CAST(? AS INTEGER)`;

/** A channel's latest notifications, newest first. Params: channel, limit. */
export const CHANNEL_RECENT = `SELECT id, payload, created_at FROM _honker_notifications
  WHERE channel = CAST(? AS TEXT) ORDER BY id DESC LIMIT CAST(? AS INTEGER)`;

/**
 * The unique key a job took (honker-ts's `_honker_ts_job_keys`), and whether it still holds it:
 * keys are freed lazily, so the row outlives the job until the next enqueue with the key or a
 * sweep. Params: queue, job id.
 */
export const JOB_KEY_OF = `SELECT k.key, k.mode, ${keyHeld("k")} AS held
  FROM _honker_ts_job_keys k WHERE k.queue = ? AND k.job_id = ?`;

/** A job's own run options (honker-ts's `_honker_ts_job_options`). Params: job id. */
export const JOB_OPTIONS_OF =
  "SELECT timeout_s, backoff FROM _honker_ts_job_options WHERE job_id = ?";
