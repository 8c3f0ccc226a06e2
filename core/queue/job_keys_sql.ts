/**
 * `_honker_ts_job_keys`: which job holds each unique key of a queue. The primary key
 * `(queue, key)` is what makes a keyed enqueue race-free across processes: two writers cannot
 * both own a key, whatever they read before.
 *
 * A key row is freed by triggers on honker's `_honker_live`, so a job finished by any process
 * (honker-ts, or a honker process acking, dead-lettering or cancelling through its extension)
 * frees its key in the same statement. Each trigger body is one probe of the `job_id` index, so
 * a queue that never uses keys pays one lookup in an empty (or small) index per ack or claim.
 *
 * @module
 */

/** The mode a key row was taken in (column `mode`). */
export type JobKeyMode = "live" | "throttle" | "debounce";

/**
 * The table, its job index and the two triggers.
 *
 * - `job_id`: the job holding the key.
 * - `created_at`: when the holding job was enqueued (for debounce, the first enqueue of the
 *   window).
 * - `expires_at`: throttle only, `created_at + ttlS`: the row outlives its job until then.
 * - `fire_by`: debounce with a max wait only, `created_at + maxWaitS`: the latest run time a
 *   duplicate may push the job to.
 *
 * `_honker_ts_job_keys_free` deletes the key of a job leaving `_honker_live` (ack, retry out of
 * attempts, fail, expiry sweep, cancel), unless a throttle window still runs; the enqueue that
 * next meets such a row takes it over once its window has passed. `_honker_ts_job_keys_claimed`
 * frees a debounce key when its job is claimed, so the next duplicate starts a new job.
 */
export const JOB_KEYS_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_job_keys (
      queue TEXT NOT NULL,
      key TEXT NOT NULL,
      job_id INTEGER NOT NULL,
      mode TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER,
      fire_by INTEGER,
      PRIMARY KEY (queue, key)
    ) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS _honker_ts_job_keys_job ON _honker_ts_job_keys (job_id);
CREATE TRIGGER IF NOT EXISTS _honker_ts_job_keys_free AFTER DELETE ON _honker_live
    BEGIN
      DELETE FROM _honker_ts_job_keys WHERE job_id = OLD.id
        AND (expires_at IS NULL OR expires_at <= unixepoch());
    END;
CREATE TRIGGER IF NOT EXISTS _honker_ts_job_keys_claimed AFTER UPDATE OF state ON _honker_live
    WHEN NEW.state = 'processing' AND OLD.state = 'pending'
    BEGIN
      DELETE FROM _honker_ts_job_keys WHERE job_id = NEW.id AND mode = 'debounce';
    END;`;

/** The names of the two triggers (the bench drops them to measure their cost). */
export const JOB_KEYS_TRIGGERS: readonly string[] = [
  "_honker_ts_job_keys_free",
  "_honker_ts_job_keys_claimed",
];

/**
 * The id the next insert into `_honker_live` gets. Its `id` is AUTOINCREMENT: SQLite gives the
 * larger of the table's largest id and the largest ever handed out (`sqlite_sequence`) plus one.
 * Inside the write transaction nobody else can insert first; the caller still checks the id it
 * got and corrects the key row if they differ.
 */
const JOB_NEXT_ID = `(SELECT MAX(
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '_honker_live'), 0),
    COALESCE((SELECT MAX(id) FROM _honker_live), 0)) + 1)`;

/**
 * Takes the key, or learns that it is held. Inserts the row, or takes over a stale one: its job
 * is no longer live and its throttle window (if any) has passed. Returns a row when the caller
 * now owns the key, with the id its job is about to get; none when another job holds it.
 * Params: queue, key, mode, ttlS (or null), maxWaitS (or null).
 */
export const JOB_KEY_TAKE = `INSERT INTO _honker_ts_job_keys
    (queue, key, job_id, mode, created_at, expires_at, fire_by)
  VALUES (?, ?, ${JOB_NEXT_ID}, ?, unixepoch(), unixepoch() + ?, unixepoch() + ?)
  ON CONFLICT (queue, key) DO UPDATE SET job_id = excluded.job_id, mode = excluded.mode,
    created_at = excluded.created_at, expires_at = excluded.expires_at,
    fire_by = excluded.fire_by
  WHERE (_honker_ts_job_keys.expires_at IS NULL OR _honker_ts_job_keys.expires_at <= unixepoch())
    AND NOT EXISTS (SELECT 1 FROM _honker_live WHERE id = _honker_ts_job_keys.job_id)
  RETURNING job_id`;

/** Records the job that holds the key, when it got another id than predicted. Params: jobId, queue, key. */
export const JOB_KEY_SET_JOB =
  "UPDATE _honker_ts_job_keys SET job_id = ? WHERE queue = ? AND key = ?";

/** The key's row. Params: queue, key. */
export const JOB_KEY_GET = `SELECT job_id, mode, fire_by FROM _honker_ts_job_keys
  WHERE queue = ? AND key = ?`;

/**
 * The live job holding the key, if any (a throttle row outliving its job has none).
 * Params: queue, key.
 */
export const JOB_KEY_LIVE_JOB = `SELECT k.job_id AS id FROM _honker_ts_job_keys k
  JOIN _honker_live l ON l.id = k.job_id
  WHERE k.queue = ? AND k.key = ?`;

/**
 * A debounced duplicate: the pending job gets the new payload (unless `replacePayload` is false) and
 * runs `debounceS` from now, never later than its `fire_by`.
 * Params: replacePayload (0/1), payload, debounceS, fireBy (or null), debounceS, jobId.
 */
export const JOB_KEY_DEBOUNCE = `UPDATE _honker_live
  SET payload = CASE WHEN ? THEN ? ELSE payload END,
      run_at = MIN(unixepoch() + ?, COALESCE(?, unixepoch() + ?))
  WHERE id = ? AND state = 'pending'`;

/** Deletes the rows of expired throttle windows whose job is gone. Params: queue. */
export const JOB_KEYS_SWEEP = `DELETE FROM _honker_ts_job_keys
  WHERE queue = ? AND expires_at IS NOT NULL AND expires_at <= unixepoch()
    AND NOT EXISTS (SELECT 1 FROM _honker_live WHERE id = _honker_ts_job_keys.job_id)`;
