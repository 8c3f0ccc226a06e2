/**
 * Scheduler operations over a bare driver (spec §5), shared by the `Scheduler` API and honker's
 * `honker_scheduler_*` SQL functions. No transaction control: callers wrap multi-statement
 * operations.
 *
 * @module
 */

import { nextFireAfter } from "./cron.ts";
import type { SqliteDriver } from "./driver.ts";
import { enqueueJob } from "./queue_ops.ts";
import {
  CLOCK_NOW,
  TASK_DUE,
  TASK_GET,
  TASK_SET_CRON,
  TASK_SET_EXPIRES,
  TASK_SET_MAX_ATTEMPTS,
  TASK_SET_NEXT_FIRE,
  TASK_SET_PAYLOAD,
  TASK_SET_PRIORITY,
  TASK_SOONEST,
  TASK_UPSERT,
} from "./scheduler_sql.ts";

/** honker fires at most this many missed boundaries per task per tick, then skips ahead. */
export const SCHEDULER_MAX_CATCHUP_FIRES = 64;

/** A `_honker_scheduler_tasks` row as stored. */
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

/** Tasks may use croner's extended syntax; honker's own fields keep honker's meaning there. */
const READ_ANY = { extendedSyntax: true };

/** SQLite's now, in unix seconds. */
export function sqlNow(driver: SqliteDriver): number {
  return driver.get<{ now: number }>(CLOCK_NOW)?.now ?? Math.floor(Date.now() / 1000);
}

/** `honker_scheduler_register`: upsert; the first fire is the next boundary after now. */
export function registerTask(driver: SqliteDriver, task: TaskSpec, extendedSyntax: boolean): void {
  const next = nextFireAfter(task.cronExpr, sqlNow(driver), { extendedSyntax });
  driver.run(TASK_UPSERT, [
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
  if (Object.keys(changes).length === 0 || !driver.get(TASK_GET, [name])) return false;
  if (changes.cronExpr !== undefined) {
    const next = nextFireAfter(changes.cronExpr, sqlNow(driver), { extendedSyntax });
    driver.run(TASK_SET_CRON, [changes.cronExpr, next, name]);
  }
  if (changes.payload !== undefined) driver.run(TASK_SET_PAYLOAD, [changes.payload, name]);
  if (changes.priority !== undefined) driver.run(TASK_SET_PRIORITY, [changes.priority, name]);
  if ("expiresS" in changes) driver.run(TASK_SET_EXPIRES, [changes.expiresS ?? null, name]);
  if ("maxAttempts" in changes) {
    driver.run(TASK_SET_MAX_ATTEMPTS, [Math.max(1, changes.maxAttempts ?? 3), name]);
  }
  return true;
}

/** Fires one task's due boundaries (at most 64) and moves its next fire on. */
function fireTask(driver: SqliteDriver, task: TaskRow, now: number, fires: FireRow[]): void {
  let next = task.next_fire_at;
  let fired = 0;
  while (next <= now && fired < SCHEDULER_MAX_CATCHUP_FIRES) {
    const jobId = enqueueJob(driver, task.queue, task.payload, {
      delayS: null,
      runAt: null, // the real now, not the boundary, as in honker
      priority: task.priority,
      maxAttempts: Math.max(1, task.max_attempts),
      expiresS: task.expires_s,
    });
    fires.push({ name: task.name, queue: task.queue, fire_at: next, job_id: jobId });
    next = nextFireAfter(task.cron_expr, next, READ_ANY);
    fired++;
  }
  // Past the catch-up cap the remaining boundaries are skipped, as honker does.
  if (next <= now) next = nextFireAfter(task.cron_expr, now, READ_ANY);
  driver.run(TASK_SET_NEXT_FIRE, [next, task.name]);
}

/**
 * `honker_scheduler_tick`: enqueues one job per due boundary of every enabled task. Must run in
 * a write transaction, so that concurrent tickers fire each boundary once. A task whose stored
 * expression cannot be read (written by hand) is skipped, so it cannot stop the others.
 */
export function tickTasks(driver: SqliteDriver, now: number): FireRow[] {
  const fires: FireRow[] = [];
  for (const task of driver.all<TaskRow>(TASK_DUE, [now])) {
    try {
      nextFireAfter(task.cron_expr, task.next_fire_at, READ_ANY);
    } catch {
      continue;
    }
    fireTask(driver, task, now, fires);
  }
  return fires;
}

/** `honker_scheduler_soonest`: the earliest next fire of an enabled task, or 0. */
export function soonestFire(driver: SqliteDriver): number {
  return driver.get<{ t: number }>(TASK_SOONEST)?.t ?? 0;
}
