/**
 * Job events and progress on disk: `_honker_ts_job_events` (one row per thing that happened to
 * a job of a queue with events on, its id the consumer's offset), `_honker_ts_job_progress` (a
 * job's latest progress while it is live), and the triggers on honker's tables that write the
 * events any process's writes cause, honker's extension included.
 *
 * The triggers read `_honker_ts_queues.events` (`settings_sql.ts`): a queue without events pays
 * one primary-key probe per insert, claim, retry and delete of one of its jobs.
 *
 * What the triggers record, whoever writes:
 *
 * - INSERT into `_honker_live` → `enqueued`.
 * - UPDATE of `state` to `processing` with one more attempt (a claim, or a reclaim after the
 *   visibility timeout) → `active`; `processing` back to `pending` → `retried`.
 * - DELETE from `_honker_live` → `completed` for a claimed job (an ack), `cancelled` for a
 *   pending one; an INSERT of the same id into `_honker_dead` (in the same transaction, as every
 *   honker binding and honker-ts does) rewrites that event to `dead` with the error.
 *
 * honker-ts alone adds, in the transaction of the write they describe: `failed` (an attempt's
 * error, before the `retried` or `dead` it leads to), `progress`, the `completed` event's
 * result, and `cancelled` for a claimed job cancelled through `queue.cancel()`.
 *
 * @module
 */

const EVENTS_ON = (queue: string) =>
  `EXISTS (SELECT 1 FROM _honker_ts_queues WHERE queue = ${queue} AND events = 1)`;

/**
 * The newest event of a job: the table walked backwards from its newest event, which is the
 * job's own when a trigger or the write it follows looks.
 */
const lastOfJob = (queue: string, id: string) =>
  `SELECT id FROM _honker_ts_job_events WHERE queue = ${queue} AND job_id = ${id}
    ORDER BY id DESC LIMIT 1`;

/** Columns an event row is read with. */
const EVENT_COLUMNS = "id, queue, job_id, type, data, attempt, created_at";

/** Inserts one event from a trigger. `type` and `data` are SQL expressions over NEW/OLD. */
const insertEvent = (row: "NEW" | "OLD", type: string, data: string) =>
  `INSERT INTO _honker_ts_job_events (queue, job_id, type, data, attempt)
      VALUES (${row}.queue, ${row}.id, ${type}, ${data}, ${row}.attempts);`;

/**
 * The tables and the triggers. Run after honker's schema and the queue settings.
 *
 * The events table has its rowid alone as key, no index and no AUTOINCREMENT: an event then
 * dirties one page of a claim's or an ack's transaction, where an index and AUTOINCREMENT's
 * `sqlite_sequence` row dirtied two more (13.3 WAL frames per claim+ack with both, 9.2 without,
 * 7.1 with events off). Ids still only grow: a new rowid is the largest plus one, and retention
 * never deletes the newest event (`JOB_EVENT_CHUNK_DELETE`), so an id is never handed out twice
 * to a committed event. Readers walk the rowid: a queue's consumer skips other queues' events
 * once (`JOB_EVENTS_READ` reports how far it looked).
 */
export const JOB_EVENTS_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_job_events (
      id INTEGER PRIMARY KEY,
      queue TEXT NOT NULL,
      job_id INTEGER NOT NULL,
      type TEXT NOT NULL,
      data TEXT,
      attempt INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL DEFAULT (unixepoch())
    );
    CREATE TABLE IF NOT EXISTS _honker_ts_job_progress (
      job_id INTEGER PRIMARY KEY,
      value TEXT NOT NULL,
      updated_at INTEGER NOT NULL DEFAULT (unixepoch())
    );
    CREATE TRIGGER IF NOT EXISTS _honker_ts_job_enqueued AFTER INSERT ON _honker_live
    WHEN ${EVENTS_ON("NEW.queue")}
    BEGIN
      ${
  insertEvent("NEW", "'enqueued'", "json_object('runAt', NEW.run_at, 'priority', NEW.priority)")
}
    END;
    CREATE TRIGGER IF NOT EXISTS _honker_ts_job_active AFTER UPDATE OF state ON _honker_live
    WHEN NEW.state = 'processing' AND NEW.attempts > OLD.attempts AND ${EVENTS_ON("NEW.queue")}
    BEGIN
      ${insertEvent("NEW", "'active'", "json_object('workerId', NEW.worker_id)")}
    END;
    CREATE TRIGGER IF NOT EXISTS _honker_ts_job_retried AFTER UPDATE OF state ON _honker_live
    WHEN OLD.state = 'processing' AND NEW.state = 'pending' AND ${EVENTS_ON("NEW.queue")}
    BEGIN
      ${insertEvent("NEW", "'retried'", "json_object('runAt', NEW.run_at)")}
    END;
    CREATE TRIGGER IF NOT EXISTS _honker_ts_job_left AFTER DELETE ON _honker_live
    WHEN ${EVENTS_ON("OLD.queue")}
    BEGIN
      ${
  insertEvent(
    "OLD",
    "CASE OLD.state WHEN 'processing' THEN 'completed' ELSE 'cancelled' END",
    "NULL",
  )
}
    END;
    CREATE TRIGGER IF NOT EXISTS _honker_ts_job_dead AFTER INSERT ON _honker_dead
    WHEN ${EVENTS_ON("NEW.queue")}
    BEGIN
      UPDATE _honker_ts_job_events SET type = 'dead', data = json_object('error', NEW.last_error)
      WHERE id = (${lastOfJob("NEW.queue", "NEW.id")}) AND type IN ('completed', 'cancelled');
    END;
    CREATE TRIGGER IF NOT EXISTS _honker_ts_job_progress_freed AFTER DELETE ON _honker_live
    BEGIN
      DELETE FROM _honker_ts_job_progress WHERE job_id = OLD.id;
    END;`;

/** The live row `workerId` holds (its claim not expired). Params: id, workerId. */
const HELD = `FROM _honker_live WHERE id = ? AND worker_id = ? AND state = 'processing'
    AND claim_expires_at >= unixepoch()`;

/**
 * `failed`: an attempt of a held job failed with an error; written before the retry or fail
 * that follows, only while the job is held and its queue has events on.
 * Params: error, id, workerId.
 */
export const JOB_EVENT_FAILED =
  `INSERT INTO _honker_ts_job_events (queue, job_id, type, data, attempt)
  SELECT queue, id, 'failed', json_object('error', ?), attempts ${HELD}
    AND ${EVENTS_ON("_honker_live.queue")}`;

/** `progress` of a held job, when its queue has events on. Params: valueJson, id, workerId. */
export const JOB_EVENT_PROGRESS = `INSERT INTO _honker_ts_job_events
    (queue, job_id, type, data, attempt)
  SELECT queue, id, 'progress', json_object('progress', json(?)), attempts ${HELD}
    AND ${EVENTS_ON("_honker_live.queue")}`;

/** Stores a held job's latest progress. Params: valueJson, id, workerId. */
export const JOB_PROGRESS_UPSERT = `INSERT INTO _honker_ts_job_progress (job_id, value, updated_at)
  SELECT id, ?, unixepoch() ${HELD}
  ON CONFLICT (job_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

/** A live job's latest progress. Params: id. */
export const JOB_PROGRESS_GET = "SELECT value FROM _honker_ts_job_progress WHERE job_id = ?";

/**
 * Gives the `completed` event the delete trigger just wrote its result.
 * Params: resultJson, queue, id.
 */
export const JOB_EVENT_SET_RESULT = `UPDATE _honker_ts_job_events
  SET data = json_object('result', json(?))
  WHERE id = (${lastOfJob("CAST(? AS TEXT)", "CAST(? AS INTEGER)")}) AND type = 'completed'`;

/** A claimed job was cancelled, not acked: its delete event says so. Params: queue, id. */
export const JOB_EVENT_SET_CANCELLED = `UPDATE _honker_ts_job_events SET type = 'cancelled'
  WHERE id = (${lastOfJob("CAST(? AS TEXT)", "CAST(? AS INTEGER)")}) AND type = 'completed'`;

/**
 * A queue's events after an offset, and in every row (one row with NULL columns when there is
 * no such event) `top`, the newest id of any queue in the same snapshot: once the reader has
 * every event of its queue up to `top`, it may go on from `top`, so other queues' events are
 * walked past once. Params: afterId, queue, limit.
 */
export const JOB_EVENTS_READ = `SELECT e.id, e.queue, e.job_id, e.type, e.data, e.attempt,
    e.created_at, t.top
  FROM (SELECT coalesce(max(id), 0) AS top FROM _honker_ts_job_events) AS t
  LEFT JOIN (SELECT ${EVENT_COLUMNS} FROM _honker_ts_job_events
    WHERE id > ? AND queue = CAST(? AS TEXT) ORDER BY id LIMIT CAST(? AS INTEGER)) AS e
  ORDER BY e.id`;

/** The newest event id of any queue (0 when none). */
export const JOB_EVENTS_LAST_ID = "SELECT coalesce(max(id), 0) AS id FROM _honker_ts_job_events";

/**
 * A job's newest event of one queue: walks the events backwards, so it is quick for a job that
 * finished recently and slower the more events followed. Params: queue, id.
 */
export const JOB_EVENT_LAST_OF_JOB = `SELECT ${EVENT_COLUMNS} FROM _honker_ts_job_events
  WHERE queue = CAST(? AS TEXT) AND job_id = CAST(? AS INTEGER) ORDER BY id DESC LIMIT 1`;

/**
 * Whether a job id was handed out (honker's live table is AUTOINCREMENT) and is now neither
 * live nor dead in any queue: it completed or was cancelled. Params: id, id, id.
 */
export const JOB_ID_GONE = `SELECT 1 AS gone FROM sqlite_sequence
  WHERE name = '_honker_live' AND seq >= ?
    AND NOT EXISTS (SELECT 1 FROM _honker_live WHERE id = ?)
    AND NOT EXISTS (SELECT 1 FROM _honker_dead WHERE id = ?)`;

/** A job's dead row in one queue. Params: id, queue. */
export const JOB_DEAD_GET = `SELECT id, queue, payload, priority, run_at, attempts, max_attempts,
    last_error, created_at, died_at FROM _honker_dead WHERE id = ? AND queue = ?`;

/** A chunk of events for retention: which are older than keepS. See maintenance/sql.ts. */
export const JOB_EVENT_CHUNK_SCAN = `SELECT max(id) AS last,
    count(*) FILTER (WHERE created_at < unixepoch() - ?) AS garbage
  FROM (SELECT id, created_at FROM _honker_ts_job_events WHERE id > ?
    ORDER BY id LIMIT CAST(? AS INTEGER))`;

/**
 * Deletes the events of a chunk older than keepS, never the newest event: it keeps the next
 * rowid above every id handed out. Params: after, upTo, keepS.
 */
export const JOB_EVENT_CHUNK_DELETE = `DELETE FROM _honker_ts_job_events
  WHERE id > ? AND id <= ? AND created_at < unixepoch() - ?
    AND id < (SELECT max(id) FROM _honker_ts_job_events)`;
