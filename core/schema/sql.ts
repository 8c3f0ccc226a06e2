/**
 * honker's schema, byte for byte as its extension writes it into `sqlite_master`,
 * and the pragmas it sets on every connection. Changing any of this breaks on-disk
 * compatibility with honker.
 *
 * @module
 */

/** Connection pragmas, in honker's order; journal_mode is set and verified separately. */
export const PRAGMAS_DEFAULT: readonly string[] = [
  "PRAGMA synchronous = NORMAL",
  "PRAGMA foreign_keys = ON",
  "PRAGMA cache_size = -32000",
  "PRAGMA temp_store = MEMORY",
  "PRAGMA wal_autocheckpoint = 10000",
];

/**
 * The notifications table, created by honker whenever `notify()` is attached. The text, down to
 * its whitespace, is what honker's extension stores in `sqlite_master`.
 */
export const SCHEMA_NOTIFICATIONS_DDL = `CREATE TABLE IF NOT EXISTS _honker_notifications (
           id INTEGER PRIMARY KEY AUTOINCREMENT,
           channel TEXT NOT NULL,
           payload TEXT NOT NULL,
           created_at INTEGER NOT NULL DEFAULT (unixepoch())
         );
CREATE INDEX IF NOT EXISTS _honker_notifications_recent
           ON _honker_notifications(channel, id);`;

/**
 * Everything else, as run by honker's `honker_bootstrap()`, with honker's exact text.
 */
export const SCHEMA_BOOTSTRAP_DDL = `CREATE TABLE IF NOT EXISTS _honker_live (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      queue TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL DEFAULT 'pending',
      priority INTEGER NOT NULL DEFAULT 0,
      run_at INTEGER NOT NULL DEFAULT (unixepoch()),
      worker_id TEXT,
      claim_expires_at INTEGER,
      attempts INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL DEFAULT 3,
      created_at INTEGER NOT NULL DEFAULT (unixepoch()),
      expires_at INTEGER
    );
CREATE INDEX IF NOT EXISTS _honker_live_claim
      ON _honker_live(queue, priority DESC, run_at, id)
      WHERE state IN ('pending', 'processing');
CREATE INDEX IF NOT EXISTS _honker_live_pending_deadline
      ON _honker_live(queue, run_at)
      WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS _honker_live_processing_deadline
      ON _honker_live(queue, claim_expires_at)
      WHERE state = 'processing';
CREATE TABLE IF NOT EXISTS _honker_dead (
      id INTEGER PRIMARY KEY,
      queue TEXT NOT NULL,
      payload TEXT NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0,
      run_at INTEGER NOT NULL DEFAULT 0,
      attempts INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      created_at INTEGER NOT NULL DEFAULT (unixepoch()),
      died_at INTEGER NOT NULL DEFAULT (unixepoch())
    );
CREATE TABLE IF NOT EXISTS _honker_locks (
      name TEXT PRIMARY KEY,
      owner TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    );
CREATE TABLE IF NOT EXISTS _honker_rate_limits (
      name TEXT NOT NULL,
      window_start INTEGER NOT NULL,
      count INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (name, window_start)
    );
CREATE TABLE IF NOT EXISTS _honker_scheduler_tasks (
      name TEXT PRIMARY KEY,
      queue TEXT NOT NULL,
      cron_expr TEXT NOT NULL,
      payload TEXT NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0,
      expires_s INTEGER,
      next_fire_at INTEGER NOT NULL,
      enabled INTEGER NOT NULL DEFAULT 1,
      max_attempts INTEGER NOT NULL DEFAULT 3
    );
CREATE TABLE IF NOT EXISTS _honker_results (
      job_id INTEGER PRIMARY KEY,
      value TEXT,
      created_at INTEGER NOT NULL DEFAULT (unixepoch()),
      expires_at INTEGER
    );
CREATE TABLE IF NOT EXISTS _honker_stream (
      offset INTEGER PRIMARY KEY AUTOINCREMENT,
      topic TEXT NOT NULL,
      key TEXT,
      payload TEXT NOT NULL,
      created_at INTEGER NOT NULL DEFAULT (unixepoch())
    );
CREATE INDEX IF NOT EXISTS _honker_stream_topic
      ON _honker_stream(topic, offset);
CREATE TABLE IF NOT EXISTS _honker_stream_consumers (
      name TEXT NOT NULL,
      topic TEXT NOT NULL,
      offset INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (name, topic)
    );`;

/**
 * honker-ts's own table, with the columns of honker's `_honker_scheduler_tasks`: schedules that
 * need croner's extended syntax, which honker's tick cannot parse (a honker leader throws on the
 * first one and fires none after it), so honker never looks here.
 */
export const SCHEMA_TS_SCHEDULER_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_scheduler_tasks (
      name TEXT PRIMARY KEY,
      queue TEXT NOT NULL,
      cron_expr TEXT NOT NULL,
      payload TEXT NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0,
      expires_s INTEGER,
      next_fire_at INTEGER NOT NULL,
      enabled INTEGER NOT NULL DEFAULT 1,
      max_attempts INTEGER NOT NULL DEFAULT 3
    );`;

/** Columns added in place to scheduler tables from older honker versions. */
export const SCHEMA_SCHEDULER_MIGRATIONS: ReadonlyArray<{ column: string; ddl: string }> = [
  {
    column: "enabled",
    ddl: "ALTER TABLE _honker_scheduler_tasks ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1",
  },
  {
    column: "max_attempts",
    ddl: "ALTER TABLE _honker_scheduler_tasks ADD COLUMN max_attempts INTEGER NOT NULL DEFAULT 3",
  },
];

/** Column names of the scheduler table, to decide which migrations are due. */
export const SCHEMA_SCHEDULER_COLUMNS =
  "SELECT name FROM pragma_table_info('_honker_scheduler_tasks')";

/** The running SQLite version. */
export const SQLITE_VERSION = "SELECT sqlite_version() AS version";

/** Checks that JSON functions are compiled in. */
export const SQLITE_JSON_PROBE = "SELECT json_valid('[1]') AS ok";
