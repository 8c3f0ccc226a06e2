/**
 * Schedules whose fires carry a unique key, in honker-ts's own `_honker_ts_scheduler_keys`
 * (honker's task table keeps its columns). A honker-ts tick enqueues such a fire through the
 * keyed path, so while the job of an earlier fire is live a new fire adds no job: a slow task
 * never piles up. A honker leader's tick does not read this table and enqueues every fire.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { enqueueKeyed } from "../queue/job_keys.ts";
import type { JobKeyPlan } from "../queue/job_keys_options.ts";
import { enqueueJob } from "../queue/ops.ts";
import type { EnqueueTiming } from "../queue/types.ts";

/** The table: one row per schedule whose fires are keyed. */
export const TASK_KEYS_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_scheduler_keys (
      name TEXT PRIMARY KEY,
      key TEXT NOT NULL
    ) WITHOUT ROWID;`;

/** Params: name, key. */
const TASK_KEY_PUT = `INSERT INTO _honker_ts_scheduler_keys (name, key) VALUES (?, ?)
  ON CONFLICT (name) DO UPDATE SET key = excluded.key`;
/** Params: name. */
const TASK_KEY_DELETE = "DELETE FROM _honker_ts_scheduler_keys WHERE name = ?";
/** Every schedule's key. */
const TASK_KEYS_ALL = "SELECT name, key FROM _honker_ts_scheduler_keys";

/** Sets (or, with null, removes) the key of schedule `name`'s fires. */
export function setTaskKey(driver: SqliteDriver, name: string, key: string | null): void {
  if (key === null) driver.run(TASK_KEY_DELETE, [name]);
  else driver.run(TASK_KEY_PUT, [name, key]);
}

/** Every keyed schedule's key, by schedule name. */
export function taskKeys(driver: SqliteDriver): Map<string, string> {
  const rows = driver.all<{ name: string; key: string }>(TASK_KEYS_ALL);
  return new Map(rows.map((row) => [row.name, row.key]));
}

/** How a tick enqueues one fire of a task: returns the job id. */
export type FireEnqueue = (
  driver: SqliteDriver,
  task: { name: string; queue: string; payload: string },
  timing: EnqueueTiming,
) => number;

/** A fire as honker enqueues it: always a new job. */
export const plainFire: FireEnqueue = (driver, task, timing) =>
  enqueueJob(driver, task.queue, task.payload, timing);

/**
 * A fire through the schedule's key, if it has one: while the job of an earlier fire is live,
 * the fire adds no job and reports that job's id. Must run in the tick's write transaction.
 */
export function keyedFire(keys: ReadonlyMap<string, string>): FireEnqueue {
  return (driver, task, timing) => {
    const key = keys.get(task.name);
    if (key === undefined) return plainFire(driver, task, timing);
    const plan: JobKeyPlan = {
      key,
      mode: "live",
      ttlS: null,
      debounceS: null,
      maxWaitS: null,
      replacePayload: true,
    };
    return enqueueKeyed(driver, task.queue, task.payload, timing, plan).id;
  };
}
