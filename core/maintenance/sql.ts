/**
 * Maintenance SQL, entity first. Every table is swept in chunks of its own key order: a chunk
 * scan (a read, which takes no write lock in WAL mode) finds where the next `limit` keys end and
 * how many of those rows are garbage, and only then a chunk delete removes the garbage within
 * that key range. A delete is thus a range search on the primary key that touches at most
 * `limit` rows, whatever the table's size, and holds SQLite's write lock for about a
 * millisecond; none of these tables has an index on its time column (honker's schema), so a
 * single `DELETE … WHERE <age>` would scan the whole table under the write lock.
 *
 * Each garbage rule is one honker itself applies or never reads past: an expired result
 * (`honker_result_sweep`), a dead job as `purgeDead({ olderThanS })` deletes it, a rate-limit
 * window `honker_rate_limit_sweep` would delete or that a newer window of its name replaced,
 * and a notification as `pruneNotifications({ olderThanS, maxKeep })` deletes it.
 *
 * Scan params: [keepS, …], after, limit (the rules' values come first, where the scan's text has
 * them). Delete params: after, upTo[, keepS, …]. A scan returns `last` (the chunk's last key,
 * NULL past the end of the table) and `garbage`.
 *
 * @module
 */

/** The lock (`_honker_locks`) whose taker runs the file's maintenance round. */
export const MAINTENANCE_LOCK = "honker-ts:maintenance";

/** A chunk of results: which are expired (honker's `honker_result_sweep` rule). */
export const RESULT_CHUNK_SCAN = `SELECT max(job_id) AS last,
    count(*) FILTER (WHERE expires_at <= unixepoch()) AS garbage
  FROM (SELECT job_id, expires_at FROM _honker_results
    WHERE job_id > ? ORDER BY job_id LIMIT CAST(? AS INTEGER))`;

/** Deletes the expired results of a chunk. A NULL `expires_at` never expires, as in honker. */
export const RESULT_CHUNK_DELETE = `DELETE FROM _honker_results
  WHERE job_id > ? AND job_id <= ? AND expires_at <= unixepoch()`;

/** A chunk of dead jobs: which died at least keepS seconds ago. */
export const DEAD_CHUNK_SCAN = `SELECT max(id) AS last,
    count(*) FILTER (WHERE died_at <= unixepoch() - ?) AS garbage
  FROM (SELECT id, died_at FROM _honker_dead WHERE id > ? ORDER BY id LIMIT CAST(? AS INTEGER))`;

/** Deletes the dead jobs of a chunk that died at least keepS seconds ago. */
export const DEAD_CHUNK_DELETE = `DELETE FROM _honker_dead
  WHERE id > ? AND id <= ? AND died_at <= unixepoch() - ?`;

/**
 * A chunk of rate-limit windows (by rowid: the table's key is (name, window_start)): which
 * started more than keepS seconds ago, or are past because their name has a newer window.
 * honker only ever counts in the current window, `(unixepoch() / perS) * perS`, so an older
 * window of a name is never read again (as long as each name keeps one `perS`).
 */
export const RATE_LIMIT_CHUNK_SCAN = `SELECT max(k) AS last,
    count(*) FILTER (WHERE window_start < unixepoch() - ?
      OR EXISTS (SELECT 1 FROM _honker_rate_limits AS newer
        WHERE newer.name = chunk.name AND newer.window_start > chunk.window_start)) AS garbage
  FROM (SELECT rowid AS k, name, window_start FROM _honker_rate_limits
    WHERE rowid > ? ORDER BY rowid LIMIT CAST(? AS INTEGER)) AS chunk`;

/** Deletes the rate-limit windows of a chunk that are old or replaced by a newer window. */
export const RATE_LIMIT_CHUNK_DELETE = `DELETE FROM _honker_rate_limits
  WHERE rowid > ? AND rowid <= ?
    AND (window_start < unixepoch() - ?
      OR EXISTS (SELECT 1 FROM _honker_rate_limits AS newer
        WHERE newer.name = _honker_rate_limits.name
          AND newer.window_start > _honker_rate_limits.window_start))`;

/**
 * The id at or below which notifications go by the count rule, keeping the newest `maxKeep`
 * (honker's prune rule). Params: maxKeep.
 */
export const NOTIFICATION_KEEP_CUTOFF = `SELECT id FROM _honker_notifications
  ORDER BY id DESC LIMIT 1 OFFSET CAST(? AS INTEGER)`;

/**
 * A chunk of notifications: which were sent more than keepS seconds ago, or are at or below the
 * count rule's cutoff id (either rule may be off: keepS NULL, cutoff -1).
 * Params: keepS|null, cutoff, after, limit.
 */
export const NOTIFICATION_CHUNK_SCAN = `SELECT max(id) AS last,
    count(*) FILTER (WHERE created_at < unixepoch() - ? OR id <= ?) AS garbage
  FROM (SELECT id, created_at FROM _honker_notifications WHERE id > ?
    ORDER BY id LIMIT CAST(? AS INTEGER))`;

/** Deletes the notifications of a chunk that either rule marks. Params: after, upTo, keepS, cutoff. */
export const NOTIFICATION_CHUNK_DELETE = `DELETE FROM _honker_notifications
  WHERE id > ? AND id <= ? AND (created_at < unixepoch() - ? OR id <= ?)`;
