/**
 * The scheduler's SQL, on two tables of the same columns: honker's
 * `_honker_scheduler_tasks`, which every honker leader ticks, and honker-ts's
 * `_honker_ts_scheduler_tasks`, for schedules honker cannot parse (croner's extended syntax), so
 * that a honker leader never meets one. `COALESCE(max_attempts, 3)` as honker reads it,
 * defensively.
 *
 * A name lives in one table. Only a writer that does not know honker-ts's table (honker itself)
 * can put a name in honker's table while it is in ours, so honker's row is the newer one: reads
 * leave our row out ("shadowed") and `TASK_DROP_SHADOWED` deletes it.
 *
 * @module
 */

/** honker's table, ticked by every scheduler leader. */
export const HONKER_TASK_TABLE = "_honker_scheduler_tasks";
/** honker-ts's table, ticked only by honker-ts leaders. */
export const TS_TASK_TABLE = "_honker_ts_scheduler_tasks";

/** Columns of a task as the API reads them. */
const TASK_COLUMNS = "name, queue, cron_expr, payload, priority, expires_s, next_fire_at, " +
  "enabled, COALESCE(max_attempts, 3) AS max_attempts";

/** The statements on one task table. */
export interface TaskTableSql {
  /** The table's name. */
  readonly table: string;
  /**
   * Register (upsert by name). `enabled` is not touched on conflict, so re-registering a paused
   * task leaves it paused, as in honker.
   * Params: name, queue, cronExpr, payload, priority, expiresS, nextFireAt, maxAttempts.
   */
  readonly upsert: string;
  /**
   * Write a whole task, `enabled` included (insert, or replace the row of that name).
   * Params: name, queue, cronExpr, payload, priority, expiresS, nextFireAt, enabled, maxAttempts.
   */
  readonly put: string;
  /** Params: name. */
  readonly delete: string;
  /** Params: name. */
  readonly pause: string;
  /** Params: name. */
  readonly resume: string;
  /** Every task, by name. */
  readonly list: string;
  /** One task. Params: name. */
  readonly get: string;
  /** Enabled tasks due at `now`, in table order as honker scans them. Params: now. */
  readonly due: string;
  /** Every task with `next_fire_at <= ?`, enabled or not. Params: at. */
  readonly dueAny: string;
  /** Params: nextFireAt, name. */
  readonly setNextFire: string;
  /** The earliest next fire of an enabled task, or 0. */
  readonly soonest: string;
}

function taskTableSql(table: string): TaskTableSql {
  return {
    table,
    upsert: `INSERT INTO ${table}
  (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, max_attempts)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, cron_expr = excluded.cron_expr,
    payload = excluded.payload, priority = excluded.priority, expires_s = excluded.expires_s,
    next_fire_at = excluded.next_fire_at, max_attempts = excluded.max_attempts`,
    put: `INSERT INTO ${table}
  (name, queue, cron_expr, payload, priority, expires_s, next_fire_at, enabled, max_attempts)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET queue = excluded.queue, cron_expr = excluded.cron_expr,
    payload = excluded.payload, priority = excluded.priority, expires_s = excluded.expires_s,
    next_fire_at = excluded.next_fire_at, enabled = excluded.enabled,
    max_attempts = excluded.max_attempts`,
    delete: `DELETE FROM ${table} WHERE name = ?`,
    pause: `UPDATE ${table} SET enabled = 0 WHERE name = ? AND enabled = 1`,
    resume: `UPDATE ${table} SET enabled = 1 WHERE name = ? AND enabled = 0`,
    list: `SELECT ${TASK_COLUMNS} FROM ${table} ORDER BY name`,
    get: `SELECT ${TASK_COLUMNS} FROM ${table} WHERE name = ?`,
    due: `SELECT ${TASK_COLUMNS} FROM ${table}
  WHERE next_fire_at <= ? AND enabled = 1 ORDER BY rowid`,
    dueAny: `SELECT ${TASK_COLUMNS} FROM ${table} WHERE next_fire_at <= ? ORDER BY rowid`,
    setNextFire: `UPDATE ${table} SET next_fire_at = ? WHERE name = ?`,
    soonest: `SELECT COALESCE(MIN(next_fire_at), 0) AS t FROM ${table} WHERE enabled = 1`,
  };
}

/** honker's table, with honker's statements. */
export const HONKER_TASKS: TaskTableSql = taskTableSql(HONKER_TASK_TABLE);
/** honker-ts's table of schedules honker cannot parse. */
export const TS_TASKS: TaskTableSql = taskTableSql(TS_TASK_TABLE);

/** Our rows whose name honker's table has too; see the module doc. */
const NOT_SHADOWED = `name NOT IN (SELECT name FROM ${HONKER_TASK_TABLE})`;

/** Every task of both tables, by name. */
export const TASK_LIST_ALL = `SELECT ${TASK_COLUMNS} FROM ${HONKER_TASK_TABLE}
  UNION ALL SELECT ${TASK_COLUMNS} FROM ${TS_TASK_TABLE} WHERE ${NOT_SHADOWED}
  ORDER BY name`;

/** Enabled tasks of both tables, earliest next fire first. Params: limit (−1 for all). */
export const TASK_ENABLED_BY_NEXT_FIRE = `SELECT ${TASK_COLUMNS} FROM ${HONKER_TASK_TABLE}
  WHERE enabled = 1
  UNION ALL SELECT ${TASK_COLUMNS} FROM ${TS_TASK_TABLE} WHERE enabled = 1 AND ${NOT_SHADOWED}
  ORDER BY next_fire_at LIMIT CAST(? AS INTEGER)`;

/** Our enabled tasks due at `now`, in table order. Params: now. */
export const TS_TASK_DUE = `SELECT ${TASK_COLUMNS} FROM ${TS_TASK_TABLE}
  WHERE next_fire_at <= ? AND enabled = 1 AND ${NOT_SHADOWED} ORDER BY rowid`;

/** Deletes our rows that honker's table shadows. */
export const TASK_DROP_SHADOWED =
  `DELETE FROM ${TS_TASK_TABLE} WHERE name IN (SELECT name FROM ${HONKER_TASK_TABLE})`;

/** SQLite's clock, which every process on the file agrees on. */
export const CLOCK_NOW = "SELECT unixepoch() AS now";
