/**
 * The stream's SQL. Offsets are one AUTOINCREMENT across all topics, so within a topic
 * they increase with gaps; a reader keeps "offset > last seen" and can never skip a row, because
 * SQLite has one writer and a smaller offset is never committed after a larger one.
 *
 * @module
 */

/** Publish one event. Params: topic, key, payload. */
export const EVENT_INSERT = "INSERT INTO _honker_stream (topic, key, payload) VALUES (?, ?, ?)";

/**
 * Publish many events in one statement; payloads travel as a JSON array of JSON texts and
 * json_each keeps array order. Params: topic, key, payloadsJson.
 */
export const EVENT_INSERT_MANY = `INSERT INTO _honker_stream (topic, key, payload)
  SELECT ?, ?, value FROM json_each(?) ORDER BY key
  RETURNING offset`;

/**
 * Events of a topic after an offset, oldest first, without the topic the reader already knows
 * (one string fewer per row). Params: topic, offset, limit.
 */
export const EVENT_READ_SINCE = `SELECT offset, key, payload, created_at FROM _honker_stream
  WHERE topic = CAST(? AS TEXT) AND offset > ? ORDER BY offset LIMIT CAST(? AS INTEGER)`;

/** How many events of a topic lie after an offset. Params: topic, offset. */
export const EVENT_COUNT_SINCE =
  "SELECT count(*) AS n FROM _honker_stream WHERE topic = ? AND offset > ?";

/**
 * Trim a topic: events old enough (or any age), not among the newest `keepLast` (or none kept),
 * and at or below a protecting offset. Params: topic, olderThanS|null, olderThanS|null,
 * keepLast|null, topic, keepLast|null, maxOffset.
 */
export const EVENT_TRIM = `DELETE FROM _honker_stream
  WHERE topic = CAST(? AS TEXT)
    AND (? IS NULL OR created_at < unixepoch() - ?)
    AND (? IS NULL OR offset <= coalesce((SELECT offset FROM _honker_stream
      WHERE topic = CAST(? AS TEXT) ORDER BY offset DESC LIMIT 1 OFFSET CAST(? AS INTEGER)), -1))
    AND offset <= ?`;

/** Monotonic save: insert, or raise only. Params: consumer, topic, offset. */
export const CONSUMER_SAVE_OFFSET = `INSERT INTO _honker_stream_consumers (name, topic, offset)
  VALUES (?, ?, ?)
  ON CONFLICT (name, topic) DO UPDATE SET offset = excluded.offset
  WHERE excluded.offset > _honker_stream_consumers.offset`;

/** A consumer's saved offset. Params: consumer, topic. */
export const CONSUMER_GET_OFFSET =
  "SELECT offset FROM _honker_stream_consumers WHERE name = ? AND topic = ?";

/** Forget a consumer of a topic. Params: consumer, topic. */
export const CONSUMER_DELETE = "DELETE FROM _honker_stream_consumers WHERE name = ? AND topic = ?";

/** Every consumer of a topic with its lag. Params: topic. */
export const CONSUMER_LIST = `SELECT c.name AS name, c.offset AS offset,
    (SELECT count(*) FROM _honker_stream s WHERE s.topic = c.topic AND s.offset > c.offset) AS lag
  FROM _honker_stream_consumers c WHERE c.topic = CAST(? AS TEXT) ORDER BY c.name`;

/** The lowest saved offset of a topic's consumers, or NULL. Params: topic. */
export const CONSUMER_MIN_OFFSET =
  "SELECT min(offset) AS offset FROM _honker_stream_consumers WHERE topic = CAST(? AS TEXT)";
