/**
 * Notify/listen SQL. Ids come from one AUTOINCREMENT, so "id > last seen" never skips a
 * row: SQLite has one writer and a smaller id is never committed after a larger one.
 *
 * @module
 */

/** Send one notification. Params: channel, payload. */
export const NOTIFICATION_INSERT =
  "INSERT INTO _honker_notifications (channel, payload) VALUES (?, ?)";

/** The newest id of a channel, or 0: where a new listener starts. Params: channel. */
export const NOTIFICATION_LAST_ID = `SELECT coalesce(max(id), 0) AS id FROM _honker_notifications
  WHERE channel = CAST(? AS TEXT)`;

/** A channel's notifications after an id, oldest first. Params: channel, id, limit. */
export const NOTIFICATION_READ_SINCE = `SELECT id, channel, payload, created_at
  FROM _honker_notifications WHERE channel = CAST(? AS TEXT) AND id > ?
  ORDER BY id LIMIT CAST(? AS INTEGER)`;

/**
 * honker's prune: one DELETE whose conditions OR together; each applies only when given.
 * Params: olderThanS|null, olderThanS|null, maxKeep|null, maxKeep|null.
 */
export const NOTIFICATION_PRUNE = `DELETE FROM _honker_notifications
  WHERE (? IS NOT NULL AND created_at < unixepoch() - ?)
     OR (? IS NOT NULL AND id <= (SELECT id FROM _honker_notifications
           ORDER BY id DESC LIMIT 1 OFFSET CAST(? AS INTEGER)))`;
