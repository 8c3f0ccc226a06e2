/**
 * The scheduler's SQL (spec §5), on honker's `_honker_scheduler_tasks`. `COALESCE(max_attempts,
 * 3)` as honker reads it, defensively.
 *
 * @module
 */

/** Columns of a task as the API reads them. */
const TASK_COLUMNS = "name, queue, cron_expr, payload, priority, expires_s, next_fire_at, " +
  "enabled, COALESCE(max_attempts, 3) AS max_attempts";

/**
 * Register (upsert by name). `enabled` is not touched on conflict, so re-registering a paused
 * task leaves it paused, as in honker.
 * Params: name, queue, cronExpr, payload, priority, expiresS, nextFireAt, maxAttempts.
 */
export const TASK_UPSERT = `INSERT INTO _honker_scheduler_tasks
  (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, max_attempts)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, cron_expr = excluded.cron_expr,
    payload = excluded.payload, priority = excluded.priority, expires_s = excluded.expires_s,
    next_fire_at = excluded.next_fire_at, max_attempts = excluded.max_attempts`;

/** Params: name. */
export const TASK_DELETE = "DELETE FROM _honker_scheduler_tasks WHERE name = ?";

/** Params: name. */
export const TASK_PAUSE =
  "UPDATE _honker_scheduler_tasks SET enabled = 0 WHERE name = ? AND enabled = 1";

/** Params: name. */
export const TASK_RESUME =
  "UPDATE _honker_scheduler_tasks SET enabled = 1 WHERE name = ? AND enabled = 0";

/** Every task, by name. */
export const TASK_LIST = `SELECT ${TASK_COLUMNS} FROM _honker_scheduler_tasks ORDER BY name`;

/** One task. Params: name. */
export const TASK_GET = `SELECT ${TASK_COLUMNS} FROM _honker_scheduler_tasks WHERE name = ?`;

/** Enabled tasks due at `now`, in table order as honker scans them. Params: now. */
export const TASK_DUE = `SELECT ${TASK_COLUMNS} FROM _honker_scheduler_tasks
  WHERE next_fire_at <= ? AND enabled = 1 ORDER BY rowid`;

/** Params: nextFireAt, name. */
export const TASK_SET_NEXT_FIRE =
  "UPDATE _honker_scheduler_tasks SET next_fire_at = ? WHERE name = ?";

/** Params: cronExpr, nextFireAt, name. */
export const TASK_SET_CRON =
  "UPDATE _honker_scheduler_tasks SET cron_expr = ?, next_fire_at = ? WHERE name = ?";

/** Params: payload, name. */
export const TASK_SET_PAYLOAD = "UPDATE _honker_scheduler_tasks SET payload = ? WHERE name = ?";

/** Params: priority, name. */
export const TASK_SET_PRIORITY = "UPDATE _honker_scheduler_tasks SET priority = ? WHERE name = ?";

/** Params: expiresS, name. */
export const TASK_SET_EXPIRES = "UPDATE _honker_scheduler_tasks SET expires_s = ? WHERE name = ?";

/** Params: maxAttempts, name. */
export const TASK_SET_MAX_ATTEMPTS =
  "UPDATE _honker_scheduler_tasks SET max_attempts = ? WHERE name = ?";

/** The earliest next fire of an enabled task, or 0. */
export const TASK_SOONEST =
  "SELECT COALESCE(MIN(next_fire_at), 0) AS t FROM _honker_scheduler_tasks WHERE enabled = 1";

/** SQLite's clock, which every process on the file agrees on. */
export const CLOCK_NOW = "SELECT unixepoch() AS now";
