/**
 * The `Scheduler` API's operations over both task tables (see `sql.ts`): a schedule
 * honker can parse lives in honker's `_honker_scheduler_tasks`, one that needs croner's extended
 * syntax in `_honker_ts_scheduler_tasks`, where honker's tick never meets it; a name lives in one
 * of them. No transaction control: callers wrap these.
 *
 * The phase of a schedule (its `next_fire_at`) moves only when its expression or queue changes,
 * so an application that registers its schedules at every boot keeps the boundaries that fell
 * due while it was down.
 *
 * @module
 */

import { parseSchedule } from "./cron/cron.ts";
import type { Schedule } from "./cron/cron.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { applyChanges, READ_ANY, sqlNow, taskValues, tickTable } from "./ops.ts";
import type { FireRow, TaskChanges, TaskRow, UnreadableTask } from "./ops.ts";
import {
  HONKER_TASKS,
  TASK_DROP_SHADOWED,
  TASK_ENABLED_BY_NEXT_FIRE,
  TASK_LIST_ALL,
  TS_TASK_DUE,
  TS_TASKS,
} from "./sql.ts";
import type { TaskTableSql } from "./sql.ts";
import { keyedFire, setTaskKey, taskKeys } from "./task_keys.ts";

/** A task to register with `addTask()`. */
export interface NewTask {
  name: string;
  queue: string;
  schedule: Schedule;
  payload: string;
  priority: number;
  expiresS: number | null;
  maxAttempts: number;
}

/** A stored task and, when honker-ts cannot evaluate its schedule, why. */
export interface ListedTask {
  row: TaskRow;
  problem: Error | undefined;
}

/** What one tick of both tables did. */
export interface TickOutcome {
  fires: FireRow[];
  unreadable: UnreadableTask[];
  /** Rows moved between the tables or dropped as shadowed before ticking. */
  moved: number;
}

const tableFor = (schedule: Schedule): TaskTableSql =>
  schedule.honkerCompatible ? HONKER_TASKS : TS_TASKS;

/** The task named `name` and its table; honker's row first, as it shadows ours. */
function findTask(
  driver: SqliteDriver,
  name: string,
): { sql: TaskTableSql; row: TaskRow } | undefined {
  for (const sql of [HONKER_TASKS, TS_TASKS]) {
    const row = driver.get<TaskRow>(sql.get, [name]);
    if (row) return { sql, row };
  }
  return undefined;
}

/** Writes `row` into `target` and removes its name from the other table. */
function store(driver: SqliteDriver, target: TaskTableSql, row: TaskRow): void {
  driver.run(target.put, taskValues(row));
  driver.run((target === HONKER_TASKS ? TS_TASKS : HONKER_TASKS).delete, [row.name]);
}

/**
 * `Scheduler.add()`: registers or replaces a task. An existing task with the same expression and
 * queue keeps its next fire (and, like any existing task, its paused state); otherwise the first
 * fire is the next boundary after now.
 */
export function addTask(driver: SqliteDriver, task: NewTask): void {
  const fresh = task.schedule.nextFireAfter(sqlNow(driver)); // throws for one that never fires
  const old = findTask(driver, task.name)?.row;
  const samePhase = old?.cron_expr === task.schedule.expression && old.queue === task.queue;
  store(driver, tableFor(task.schedule), {
    name: task.name,
    queue: task.queue,
    cron_expr: task.schedule.expression,
    payload: task.payload,
    priority: task.priority,
    expires_s: task.expiresS,
    next_fire_at: samePhase ? old.next_fire_at : fresh,
    enabled: old?.enabled ?? 1,
    max_attempts: task.maxAttempts,
  });
}

/**
 * `Scheduler.update()`: false when the task is missing or nothing is to change. A new
 * `schedule` moves the task to the table it needs and starts from the next boundary after now;
 * the stored expression given again keeps the next fire.
 */
export function changeTask(
  driver: SqliteDriver,
  name: string,
  changes: Omit<TaskChanges, "cronExpr">,
  schedule: Schedule | undefined,
): boolean {
  const all: TaskChanges = schedule ? { ...changes, cronExpr: schedule.expression } : changes;
  if (Object.keys(all).length === 0) return false;
  const found = findTask(driver, name);
  if (!found) return false;
  const row = applyChanges(found.row, all, (expr) => {
    const fresh = schedule!.nextFireAfter(sqlNow(driver)); // throws for one that never fires
    return expr === found.row.cron_expr ? found.row.next_fire_at : fresh;
  });
  store(driver, schedule ? tableFor(schedule) : found.sql, row);
  return true;
}

/** `Scheduler.remove()`: 1 when the name existed, else 0. */
export function removeTask(driver: SqliteDriver, name: string): number {
  setTaskKey(driver, name, null);
  const removed = driver.run(HONKER_TASKS.delete, [name]).changes +
    driver.run(TS_TASKS.delete, [name]).changes;
  return Math.min(1, removed);
}

/** `Scheduler.pause()` / `resume()`: whether the task's state changed. */
export function setEnabled(driver: SqliteDriver, name: string, enabled: boolean): boolean {
  const sql = (t: TaskTableSql) => (enabled ? t.resume : t.pause);
  return driver.run(sql(HONKER_TASKS), [name]).changes +
      driver.run(sql(TS_TASKS), [name]).changes > 0;
}

/** Why honker-ts cannot fire `row`, or undefined when it can. */
function problemOf(row: TaskRow): Error | undefined {
  try {
    parseSchedule(row.cron_expr, READ_ANY).nextFireAfter(row.next_fire_at);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** Every task of both tables by name, each with its problem, if any. */
export function listTasks(driver: SqliteDriver): ListedTask[] {
  return driver.all<TaskRow>(TASK_LIST_ALL).map((row) => ({ row, problem: problemOf(row) }));
}

/**
 * The earliest next fire of an enabled task, leaving out a task that is overdue at `now` and
 * cannot be read (it never fires, so it must not hold a leader awake); 0 when there is none.
 */
export function soonestReadable(driver: SqliteDriver, now: number): number {
  const fires = (row: TaskRow) => row.next_fire_at > now || problemOf(row) === undefined;
  const [first] = driver.all<TaskRow>(TASK_ENABLED_BY_NEXT_FIRE, [1]);
  if (!first || fires(first)) return first?.next_fire_at ?? 0;
  const row = driver.all<TaskRow>(TASK_ENABLED_BY_NEXT_FIRE, [-1]).find(fires);
  return row?.next_fire_at ?? 0;
}

/**
 * Puts every task in the table it belongs in: drops our rows that honker's table shadows, and
 * moves rows of honker's table whose expression needs extended syntax (stored there by an older
 * honker-ts) into ours, with every field as it was. Only rows due at `dueAt` are looked at
 * (all by default). Returns the rows changed.
 */
export function reconcileTaskTables(
  driver: SqliteDriver,
  dueAt: number = Number.MAX_SAFE_INTEGER,
): number {
  let changed = driver.run(TASK_DROP_SHADOWED).changes;
  for (const row of driver.all<TaskRow>(HONKER_TASKS.dueAny, [dueAt])) {
    let schedule: Schedule;
    try {
      schedule = parseSchedule(row.cron_expr, READ_ANY);
    } catch {
      continue; // unreadable anywhere: it stays, and a tick reports it
    }
    if (schedule.honkerCompatible) continue;
    store(driver, TS_TASKS, row);
    changed++;
  }
  return changed;
}

/**
 * `Scheduler.tick()`: puts due tasks in their tables, then fires the due tasks of honker's table
 * and of ours, in one transaction (the caller's), so that each boundary fires once whoever ticks.
 * A keyed task's fire adds no job while its previous one is live (`task_keys.ts`).
 */
export function tickAll(driver: SqliteDriver, now: number): TickOutcome {
  const moved = reconcileTaskTables(driver, now);
  const out: TickOutcome = { fires: [], unreadable: [], moved };
  const enqueue = keyedFire(taskKeys(driver));
  tickTable(driver, HONKER_TASKS.due, HONKER_TASKS.setNextFire, now, out, enqueue);
  tickTable(driver, TS_TASK_DUE, TS_TASKS.setNextFire, now, out, enqueue);
  return out;
}
