/**
 * Scheduler operations over a bare driver: honker's `honker_scheduler_*` SQL
 * functions on honker's table, and the firing rule every tick shares. No transaction control:
 * callers wrap multi-statement operations.
 *
 * @module
 */

import { nextFireAfter, parseSchedule } from "./cron/cron.ts";
import type { SqliteDriver, SqlValue } from "../db/driver.ts";
import { CLOCK_NOW, HONKER_TASKS } from "./sql.ts";
import { plainFire } from "./task_keys.ts";
import type { FireEnqueue } from "./task_keys.ts";

/** honker fires at most this many missed boundaries per task per tick, then skips ahead. */
export const SCHEDULER_MAX_CATCHUP_FIRES = 64;

/** A task row as stored (both task tables have these columns). */
export interface TaskRow {
  [column: string]: string | number | null;
  name: string;
  queue: string;
  cron_expr: string;
  payload: string;
  priority: number;
  expires_s: number | null;
  next_fire_at: number;
  enabled: number;
  max_attempts: number;
}

/** One boundary fired by a tick. */
export interface FireRow {
  name: string;
  queue: string;
  fire_at: number;
  job_id: number;
}

/** A due task a tick could not fire because its schedule cannot be evaluated. */
export interface UnreadableTask {
  /** The task as stored. */
  task: TaskRow;
  /** What parsing or evaluating its expression threw. */
  error: Error;
}

/** A task as registered. */
export interface TaskSpec {
  name: string;
  queue: string;
  cronExpr: string;
  payload: string;
  priority: number;
  expiresS: number | null;
  maxAttempts: number;
}

/** Which fields an update changes; an absent key is left alone (a present `undefined` too). */
export interface TaskChanges {
  cronExpr?: string;
  payload?: string;
  priority?: number;
  expiresS?: number | null;
  maxAttempts?: number | null;
}

/** Stored tasks may use croner's extended syntax; honker's own fields keep honker's meaning. */
export const READ_ANY = { extendedSyntax: true };

/** SQLite's now, in unix seconds. */
export function sqlNow(driver: SqliteDriver): number {
  return driver.get<{ now: number }>(CLOCK_NOW)?.now ?? Math.floor(Date.now() / 1000);
}

/** A row's values in the order of the task tables' `put` statement. */
export function taskValues(row: TaskRow): SqlValue[] {
  return [
    row.name,
    row.queue,
    row.cron_expr,
    row.payload,
    row.priority,
    row.expires_s,
    row.next_fire_at,
    row.enabled,
    row.max_attempts,
  ];
}

/**
 * `row` with `changes` applied. `firstFire(expr)` gives `next_fire_at` for a changed expression
 * and may throw, before anything is written.
 */
export function applyChanges(
  row: TaskRow,
  changes: TaskChanges,
  firstFire: (expr: string) => number,
): TaskRow {
  const out: TaskRow = { ...row };
  if (changes.cronExpr !== undefined) {
    out.next_fire_at = firstFire(changes.cronExpr);
    out.cron_expr = changes.cronExpr;
  }
  if (changes.payload !== undefined) out.payload = changes.payload;
  if (changes.priority !== undefined) out.priority = changes.priority;
  if ("expiresS" in changes) out.expires_s = changes.expiresS ?? null;
  if ("maxAttempts" in changes) out.max_attempts = Math.max(1, changes.maxAttempts ?? 3);
  return out;
}

/** `honker_scheduler_register`: upsert; the first fire is the next boundary after now. */
export function registerTask(driver: SqliteDriver, task: TaskSpec, extendedSyntax: boolean): void {
  const next = nextFireAfter(task.cronExpr, sqlNow(driver), { extendedSyntax });
  driver.run(HONKER_TASKS.upsert, [
    task.name,
    task.queue,
    task.cronExpr,
    task.payload,
    task.priority,
    task.expiresS,
    next,
    Math.max(1, task.maxAttempts),
  ]);
}

/**
 * `honker_scheduler_update`: false when the task is missing or nothing is to change. A new
 * expression is validated, and its first fire computed from now, before anything is written.
 */
export function updateTask(
  driver: SqliteDriver,
  name: string,
  changes: TaskChanges,
  extendedSyntax: boolean,
): boolean {
  if (Object.keys(changes).length === 0) return false;
  const row = driver.get<TaskRow>(HONKER_TASKS.get, [name]);
  if (!row) return false;
  const now = sqlNow(driver);
  const next = applyChanges(row, changes, (expr) => nextFireAfter(expr, now, { extendedSyntax }));
  driver.run(HONKER_TASKS.put, taskValues(next));
  return true;
}

/**
 * The boundaries a tick at `now` fires for `task` (at most 64: past the cap the rest are
 * skipped, as honker does) and its next fire after them. Pure; throws when the task's
 * expression cannot be parsed or evaluated.
 */
export function planFires(task: TaskRow, now: number): { boundaries: number[]; next: number } {
  const schedule = parseSchedule(task.cron_expr, READ_ANY);
  const boundaries: number[] = [];
  let next = task.next_fire_at;
  while (next <= now && boundaries.length < SCHEDULER_MAX_CATCHUP_FIRES) {
    boundaries.push(next);
    next = schedule.nextFireAfter(next);
  }
  if (next <= now) next = schedule.nextFireAfter(now);
  return { boundaries, next };
}

/**
 * Fires every due task of one table (`dueSql`, params: now; `setNextSql`, params: next, name):
 * one job per boundary, then the next fire. A task whose schedule cannot be evaluated is left
 * as it is and added to `unreadable`, so it cannot stop the others. Must run in a write
 * transaction, so that concurrent tickers fire each boundary once. `enqueue` adds a fire's job
 * (honker-ts's tick passes one that honors a schedule's key).
 */
export function tickTable(
  driver: SqliteDriver,
  dueSql: string,
  setNextSql: string,
  now: number,
  out: { fires: FireRow[]; unreadable: UnreadableTask[] },
  enqueue: FireEnqueue = plainFire,
): void {
  for (const task of driver.all<TaskRow>(dueSql, [now])) {
    let plan: { boundaries: number[]; next: number };
    try {
      plan = planFires(task, now);
    } catch (error) {
      out.unreadable.push({ task, error: error as Error });
      continue;
    }
    for (const fireAt of plan.boundaries) {
      const jobId = enqueue(driver, task, {
        delayS: null,
        runAt: null, // the real now, not the boundary, as in honker
        priority: task.priority,
        maxAttempts: Math.max(1, task.max_attempts),
        expiresS: task.expires_s,
      });
      out.fires.push({ name: task.name, queue: task.queue, fire_at: fireAt, job_id: jobId });
    }
    driver.run(setNextSql, [plan.next, task.name]);
  }
}

/**
 * `honker_scheduler_tick`: fires the due tasks of honker's table. A task whose expression cannot
 * be read is skipped (a SQL function has no other channel; honker itself throws there and fires
 * none of the tasks after it); the `Scheduler` API reports it.
 */
export function tickTasks(driver: SqliteDriver, now: number): FireRow[] {
  const out = { fires: [] as FireRow[], unreadable: [] as UnreadableTask[] };
  tickTable(driver, HONKER_TASKS.due, HONKER_TASKS.setNextFire, now, out);
  return out.fires;
}

/** `honker_scheduler_soonest`: the earliest next fire of an enabled task of honker's, or 0. */
export function soonestFire(driver: SqliteDriver): number {
  return driver.get<{ t: number }>(HONKER_TASKS.soonest)?.t ?? 0;
}
