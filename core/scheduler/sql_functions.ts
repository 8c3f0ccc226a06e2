/**
 * honker's scheduler and cron SQL functions, over the same operations the
 * `Scheduler` API uses, with honker's meaning: they act on honker's `_honker_scheduler_tasks`
 * only (schedules in croner's extended syntax, in honker-ts's own table, are the `Scheduler`
 * API's), register and update recompute the next fire from now, and the tick skips a task it
 * cannot read. Arity −1 marks the two that take an optional trailing argument group.
 *
 * @module
 */

import { nextFireAfter } from "./cron/cron.ts";
import type { SqlFunction, SqliteDriver, SqlValue } from "../db/driver.ts";
import { fail, int, intOrNull, text } from "../db/sql_args.ts";
import * as ops from "./ops.ts";
import type { TaskChanges, TaskRow } from "./ops.ts";
import { HONKER_TASKS } from "./sql.ts";

/** honker's scheduler functions accept only its own cron grammar. */
const HONKER_SYNTAX = false;

function register(d: SqliteDriver, a: SqlValue[]): number {
  const f = "honker_scheduler_register";
  if (a.length !== 6 && a.length !== 7) fail(f, `takes 6 or 7 arguments, got ${a.length}`);
  ops.registerTask(d, {
    name: text(f, a, 0),
    queue: text(f, a, 1),
    cronExpr: text(f, a, 2),
    payload: text(f, a, 3),
    priority: int(f, a, 4),
    expiresS: intOrNull(f, a, 5),
    maxAttempts: a.length === 7 ? intOrNull(f, a, 6) ?? 3 : 3,
  }, HONKER_SYNTAX);
  return 1;
}

function update(d: SqliteDriver, a: SqlValue[]): number {
  const f = "honker_scheduler_update";
  if (a.length !== 6 && a.length !== 8) fail(f, `takes 6 or 8 arguments, got ${a.length}`);
  const changes: TaskChanges = {};
  if (a[1] !== null) changes.cronExpr = text(f, a, 1);
  if (a[2] !== null) changes.payload = text(f, a, 2);
  if (a[3] !== null) changes.priority = int(f, a, 3);
  if (int(f, a, 5) !== 0) changes.expiresS = intOrNull(f, a, 4);
  if (a.length === 8 && int(f, a, 7) !== 0) changes.maxAttempts = intOrNull(f, a, 6);
  return ops.updateTask(d, text(f, a, 0), changes, HONKER_SYNTAX) ? 1 : 0;
}

function list(d: SqliteDriver): string {
  // Keys in serde's sorted order, `enabled` a boolean, as honker returns them.
  return JSON.stringify(
    d.all<TaskRow>(HONKER_TASKS.list).map((r) => ({
      cron_expr: r.cron_expr,
      enabled: r.enabled !== 0,
      expires_s: r.expires_s,
      max_attempts: r.max_attempts,
      name: r.name,
      next_fire_at: r.next_fire_at,
      payload: r.payload,
      priority: r.priority,
      queue: r.queue,
    })),
  );
}

/** name → [arity, implementation]; −1 is any number of arguments. */
export function schedulerFunctions(d: SqliteDriver): Record<string, [number, SqlFunction]> {
  return {
    honker_scheduler_register: [-1, (...a) => register(d, a)],
    honker_scheduler_unregister: [
      1,
      (...a) => d.run(HONKER_TASKS.delete, [text("honker_scheduler_unregister", a, 0)]).changes,
    ],
    honker_scheduler_pause: [
      1,
      (...a) =>
        d.run(HONKER_TASKS.pause, [text("honker_scheduler_pause", a, 0)]).changes > 0 ? 1 : 0,
    ],
    honker_scheduler_resume: [
      1,
      (...a) =>
        d.run(HONKER_TASKS.resume, [text("honker_scheduler_resume", a, 0)]).changes > 0 ? 1 : 0,
    ],
    honker_scheduler_update: [-1, (...a) => update(d, a)],
    honker_scheduler_list: [0, () => list(d)],
    honker_scheduler_tick: [1, (...a) => {
      const fires = ops.tickTasks(d, int("honker_scheduler_tick", a, 0));
      return JSON.stringify(
        fires.map((x) => ({ fire_at: x.fire_at, job_id: x.job_id, name: x.name, queue: x.queue })),
      );
    }],
    honker_scheduler_soonest: [0, () => ops.soonestFire(d)],
    honker_cron_next_after: [2, (...a) => {
      const f = "honker_cron_next_after";
      return nextFireAfter(text(f, a, 0), int(f, a, 1));
    }],
  };
}
