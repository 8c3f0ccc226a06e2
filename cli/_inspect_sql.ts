/**
 * The CLI's SQL: plain reads of honker's tables, entity first, every value a bound
 * parameter. Only `SELECT`, so that it runs on a read-only connection.
 *
 * @module
 */

/** Live counts per queue, split at `now`. Params: now. */
export const QUEUE_LIVE_COUNTS = `SELECT queue,
    sum(state = 'pending' AND run_at <= ?1) AS pending,
    sum(state = 'pending' AND run_at > ?1) AS scheduled,
    sum(state = 'processing') AS processing,
    min(CASE WHEN state = 'pending' AND run_at <= ?1 THEN run_at END) AS oldest_due_at
  FROM _honker_live GROUP BY queue`;

/** Dead counts per queue. */
export const QUEUE_DEAD_COUNTS = "SELECT queue, count(*) AS dead FROM _honker_dead GROUP BY queue";

/** Per topic: last offset and event count (a covering scan of `_honker_stream_topic`). */
export const STREAM_TOPICS = `SELECT topic, max(offset) AS last_offset, count(*) AS events
  FROM _honker_stream GROUP BY topic`;

/** Every consumer with its lag. */
export const STREAM_CONSUMERS = `SELECT c.topic AS topic, c.name AS name, c.offset AS offset,
    (SELECT count(*) FROM _honker_stream s WHERE s.topic = c.topic AND s.offset > c.offset)
      AS lag
  FROM _honker_stream_consumers c ORDER BY c.topic, c.name`;

/** `*`, so that a file from before honker's `enabled`/`max_attempts` migration reads too. */
export const SCHEDULE_LIST = "SELECT * FROM _honker_scheduler_tasks ORDER BY name";

/**
 * honker-ts's own schedules (croner's extended syntax), leaving out a name honker's table has
 * too: honker wrote that one later, and the API reads it the same way.
 */
export const SCHEDULE_LIST_TS = `SELECT * FROM _honker_ts_scheduler_tasks
  WHERE name NOT IN (SELECT name FROM _honker_scheduler_tasks) ORDER BY name`;

const LIVE_COLUMNS = "id, queue, payload, state, priority, run_at, worker_id, " +
  "claim_expires_at, attempts, max_attempts, created_at, expires_at";
const DEAD_COLUMNS = "id, queue, payload, priority, run_at, attempts, max_attempts, " +
  "last_error, created_at, died_at";

/** Claimed jobs of a queue, soonest claim expiry first. Params: queue, limit. */
export const JOB_LIST_PROCESSING = `SELECT ${LIVE_COLUMNS} FROM _honker_live
  WHERE queue = CAST(? AS TEXT) AND state = 'processing'
  ORDER BY claim_expires_at, id LIMIT CAST(? AS INTEGER)`;

/** Pending jobs of a queue due now, in claim order. Params: queue, limit. */
export const JOB_LIST_PENDING = `SELECT ${LIVE_COLUMNS} FROM _honker_live
  WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at <= unixepoch()
  ORDER BY priority DESC, run_at, id LIMIT CAST(? AS INTEGER)`;

/** Pending jobs of a queue due later, soonest first. Params: queue, limit. */
export const JOB_LIST_SCHEDULED = `SELECT ${LIVE_COLUMNS} FROM _honker_live
  WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at > unixepoch()
  ORDER BY run_at, priority DESC, id LIMIT CAST(? AS INTEGER)`;

/** Whether a queue is paused (honker-ts's `_honker_ts_queues`). Params: queue. */
export const QUEUE_PAUSED_GET = "SELECT paused FROM _honker_ts_queues WHERE queue = ?";

/** Job events of a queue after an id, oldest first (honker-ts's `_honker_ts_job_events`). Params: queue, afterId, limit. */
export const JOB_EVENTS_AFTER = `SELECT id, queue, job_id, type, data, attempt, created_at
  FROM _honker_ts_job_events WHERE queue = CAST(? AS TEXT) AND id > ?
  ORDER BY id LIMIT CAST(? AS INTEGER)`;

/** The last job event id of a queue, or 0. Params: queue. */
export const JOB_EVENTS_LAST_ID = `SELECT coalesce(max(id), 0) AS id
  FROM _honker_ts_job_events WHERE queue = CAST(? AS TEXT)`;

/** Dead jobs, of one queue or all (NULL), latest death first. Params: queue|null, limit. */
export const DEAD_LIST = `SELECT ${DEAD_COLUMNS} FROM _honker_dead
  WHERE ?1 IS NULL OR queue = CAST(?1 AS TEXT)
  ORDER BY died_at DESC, id DESC LIMIT CAST(?2 AS INTEGER)`;

/** The queue of a dead job. Params: id. */
export const DEAD_QUEUE_OF = "SELECT queue FROM _honker_dead WHERE id = ?";

/** The queue of a live job. Params: id. */
export const LIVE_QUEUE_OF = "SELECT queue FROM _honker_live WHERE id = ?";

/** The newest offset of a topic, or 0. Params: topic. */
export const STREAM_LAST_OFFSET =
  "SELECT coalesce(max(offset), 0) AS offset FROM _honker_stream WHERE topic = CAST(? AS TEXT)";
