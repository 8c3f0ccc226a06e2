/**
 * `_honker_ts_queues`: honker-ts's per-queue settings that every process must agree on (a queue
 * paused, job events switched on). One row per queue that has any setting; a queue without a
 * row has the defaults. honker's extension never reads this table.
 *
 * @module
 */

/** The table. WITHOUT ROWID: it is looked up by queue name alone, often, on hot paths. */
export const QUEUE_SETTINGS_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_queues (
      queue TEXT PRIMARY KEY,
      paused INTEGER NOT NULL DEFAULT 0,
      events INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;`;

/** One queue's settings row. Params: queue. */
export const QUEUE_SETTINGS_GET = "SELECT paused, events FROM _honker_ts_queues WHERE queue = ?";

/** Sets `paused`. Params: queue, paused (0 or 1). */
export const QUEUE_SETTINGS_SET_PAUSED = `INSERT INTO _honker_ts_queues (queue, paused)
  VALUES (?, ?) ON CONFLICT (queue) DO UPDATE SET paused = excluded.paused`;

/** Sets `events`. Params: queue, events (0 or 1). */
export const QUEUE_SETTINGS_SET_EVENTS = `INSERT INTO _honker_ts_queues (queue, events)
  VALUES (?, ?) ON CONFLICT (queue) DO UPDATE SET events = excluded.events`;

/**
 * True while the queue is paused: an uncorrelated probe, which SQLite evaluates once per
 * statement, that the claim statements and the claim look put in their WHERE. Params: queue.
 */
export const QUEUE_PAUSED =
  "EXISTS (SELECT 1 FROM _honker_ts_queues WHERE queue = CAST(? AS TEXT) AND paused = 1)";
