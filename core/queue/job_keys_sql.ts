/**
 * `_honker_ts_job_keys`: which job holds each unique key of a queue. The primary key
 * `(queue, key)` is what makes a keyed enqueue race-free across processes: two writers cannot
 * both own a key, whatever they read before.
 *
 * Keys are freed lazily: no trigger on honker's `_honker_live` and no index but the primary
 * key, so a keyed enqueue writes one page more than a plain one and a queue without keys pays
 * nothing at all. A row is stale once its job is no longer live in the state that holds it
 * (gone from `_honker_live`: acked, dead-lettered, cancelled, swept, by honker-ts or by a honker
 * process; or, for debounce, claimed) and its throttle window, if any, has passed. The next
 * enqueue with that key takes a stale row over in its UPSERT; `jobIdForKey()` applies the same
 * test; `sweepExpired()` and the maintenance round delete stale rows in bounded chunks.
 *
 * @module
 */

/** The mode a key row was taken in (column `mode`). */
export type JobKeyMode = "live" | "throttle" | "debounce";

/**
 * The table. The DROPs remove the `job_id` index and the two triggers of the first design
 * (which freed keys eagerly) from files that have them.
 *
 * - `job_id`: the job holding the key.
 * - `created_at`: when the holding job was enqueued (for debounce, the first enqueue of the
 *   window).
 * - `expires_at`: throttle only, `created_at + ttlS`: the row holds the key until then, even
 *   once its job has finished.
 * - `fire_by`: debounce with a max wait only, `created_at + maxWaitS`: the latest run time a
 *   duplicate may push the job to.
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
DROP TRIGGER IF EXISTS _honker_ts_job_keys_free;
DROP TRIGGER IF EXISTS _honker_ts_job_keys_claimed;
DROP INDEX IF EXISTS _honker_ts_job_keys_job;`;

/**
 * Whether the key row `k` holds its key: its job is live in a state that holds it (any for
 * `live` and `throttle`, pending only for `debounce`), or its throttle window still runs. One
 * probe of `_honker_live`'s primary key.
 */
export function keyHeld(k: string): string {
  return `((${k}.expires_at IS NOT NULL AND ${k}.expires_at > unixepoch())
    OR EXISTS (SELECT 1 FROM _honker_live l WHERE l.id = ${k}.job_id
      AND (${k}.mode <> 'debounce' OR l.state = 'pending')))`;
}

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
 * Takes the key, or learns that it is held: inserts the row, or takes over a stale one, for the
 * id the job is about to get. One change when the caller now owns the key, none when another
 * job holds it. Params: queue, key, mode, ttlS (or null), maxWaitS (or null).
 *
 * The id is exact: inside the write transaction nothing else inserts into `_honker_live`, and
 * an AUTOINCREMENT table gives the next row the larger of `sqlite_sequence`'s value and its
 * largest id, plus one (or fails with SQLITE_FULL, which rolls the key back with it).
 */
export const JOB_KEY_TAKE = `INSERT INTO _honker_ts_job_keys
    (queue, key, job_id, mode, created_at, expires_at, fire_by)
  VALUES (?, ?, ${JOB_NEXT_ID}, ?, unixepoch(), unixepoch() + ?, unixepoch() + ?)
  ON CONFLICT (queue, key) DO UPDATE SET job_id = excluded.job_id, mode = excluded.mode,
    created_at = excluded.created_at, expires_at = excluded.expires_at,
    fire_by = excluded.fire_by
  WHERE NOT ${keyHeld("_honker_ts_job_keys")}`;

/** The key's row. Params: queue, key. */
export const JOB_KEY_GET = `SELECT job_id, mode, fire_by FROM _honker_ts_job_keys
  WHERE queue = ? AND key = ?`;

/**
 * The live job holding the key, if any (a throttle row outliving its job has none; a claimed
 * debounce job holds none). Params: queue, key.
 */
export const JOB_KEY_LIVE_JOB = `SELECT k.job_id AS id FROM _honker_ts_job_keys k
  JOIN _honker_live l ON l.id = k.job_id
  WHERE k.queue = ? AND k.key = ? AND (k.mode <> 'debounce' OR l.state = 'pending')`;

/**
 * A debounced duplicate: the pending job gets the new payload (unless `replacePayload` is false) and
 * runs `debounceS` from now, never later than its `fire_by`.
 * Params: replacePayload (0/1), payload, debounceS, fireBy (or null), debounceS, jobId.
 */
export const JOB_KEY_DEBOUNCE = `UPDATE _honker_live
  SET payload = CASE WHEN ? THEN ? ELSE payload END,
      run_at = MIN(unixepoch() + ?, COALESCE(?, unixepoch() + ?))
  WHERE id = ? AND state = 'pending'`;

/** Stale rows one sweep statement deletes at most. */
export const JOB_KEYS_SWEEP_CHUNK = 1000;

/**
 * Deletes up to `limit` stale key rows of one queue (see the module). Params: queue, queue,
 * limit.
 */
export const JOB_KEYS_SWEEP = `DELETE FROM _honker_ts_job_keys
  WHERE queue = ? AND key IN (SELECT key FROM _honker_ts_job_keys k
    WHERE k.queue = ? AND NOT ${keyHeld("k")} LIMIT CAST(? AS INTEGER))`;

/**
 * Deletes up to `limit` stale key rows of every queue (the maintenance round). Params: limit.
 */
export const JOB_KEYS_SWEEP_ALL = `DELETE FROM _honker_ts_job_keys
  WHERE (queue, key) IN (SELECT queue, key FROM _honker_ts_job_keys k
    WHERE NOT ${keyHeld("k")} LIMIT CAST(? AS INTEGER))`;
