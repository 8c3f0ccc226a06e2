/**
 * The bridges' SQL: the file's stable id, and the inbox's record of what it has applied. Both are
 * honker-ts tables (`_honker_ts_…`), created by the first bridge or inbox that needs them.
 *
 * @module
 */

/** The file's stable id: one row, written once. */
export const FILE_ID_CREATE = `CREATE TABLE IF NOT EXISTS _honker_ts_file_id (
  id TEXT NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (unixepoch())
)`;

/** Stores an id unless the file has one. Params: id. */
export const FILE_ID_INSERT = `INSERT INTO _honker_ts_file_id (id)
  SELECT ? WHERE NOT EXISTS (SELECT 1 FROM _honker_ts_file_id)`;

/** The file's id. */
export const FILE_ID_GET = "SELECT id FROM _honker_ts_file_id ORDER BY rowid LIMIT 1";

/**
 * Every message an inbox has applied, keyed by the message id its source gave it, and the highest
 * offset applied per source (a message may arrive out of order, so the id decides, not the offset).
 */
export const INBOX_CREATE = `CREATE TABLE IF NOT EXISTS _honker_ts_inbox (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  offset INTEGER,
  applied_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS _honker_ts_inbox_sources (
  source TEXT PRIMARY KEY,
  offset INTEGER NOT NULL,
  applied INTEGER NOT NULL DEFAULT 0
)`;

/** Records a message as applied; no change when it already was. Params: id, source, offset. */
export const INBOX_RECORD =
  "INSERT INTO _honker_ts_inbox (id, source, offset) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING";

/** Raises a source's highest offset and counts the message. Params: source, offset. */
export const INBOX_SOURCE_SAVE = `INSERT INTO _honker_ts_inbox_sources (source, offset, applied)
  VALUES (?, ?, 1)
  ON CONFLICT (source) DO UPDATE SET offset = max(offset, excluded.offset), applied = applied + 1`;

/** Every source an inbox has applied messages from. */
export const INBOX_SOURCES =
  "SELECT source, offset, applied FROM _honker_ts_inbox_sources ORDER BY source";

/**
 * Deletes, among the inbox's oldest `limit` records (rowid order, which is insertion order),
 * those applied more than `olderThanS` seconds ago. Params: limit, olderThanS. One bounded
 * write: fewer changes than `limit` means the old records are gone (the rest are newer).
 */
export const INBOX_PRUNE_CHUNK = `DELETE FROM _honker_ts_inbox
  WHERE rowid IN (SELECT rowid FROM _honker_ts_inbox ORDER BY rowid LIMIT CAST(? AS INTEGER))
    AND applied_at < unixepoch() - ?`;
