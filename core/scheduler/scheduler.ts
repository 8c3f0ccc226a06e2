/**
 * The cron scheduler: named schedules that enqueue a job into a queue at each
 * boundary, ticked by one leader at a time across every process on the file.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { parseSchedule } from "./cron/cron.ts";
import type { Schedule } from "./cron/cron.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import { validateForWrite } from "../db/standard_schema.ts";
import { UnreadableScheduleError } from "./errors.ts";
import { runScheduler } from "./run.ts";
import type { SchedulerRunOptions } from "./run.ts";
import { sqlNow } from "./ops.ts";
import type { TaskChanges, TaskRow, UnreadableTask } from "./ops.ts";
import * as store from "./store.ts";
import { setTaskKey, taskKeys } from "./task_keys.ts";
import { requireJobKey } from "../queue/job_keys_options.ts";
import { SCHEDULE_SPEC_KEYS, SCHEDULE_UPDATE_KEYS } from "./types.ts";
import type {
  Fire,
  ScheduledTask,
  ScheduleSpec,
  ScheduleTarget,
  ScheduleUpdate,
  TickOptions,
} from "./types.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
} from "../db/validate.ts";

export type {
  Fire,
  ScheduledTask,
  ScheduleSpec,
  ScheduleTarget,
  ScheduleUpdate,
  TickOptions,
} from "./types.ts";

function toTask<T>({ row, problem }: store.ListedTask): ScheduledTask<T> {
  const task: ScheduledTask<T> = {
    name: row.name,
    queue: row.queue,
    schedule: row.cron_expr,
    payload: parseJson<T>(row.payload),
    priority: row.priority,
    expiresS: row.expires_s,
    nextFireAt: row.next_fire_at,
    enabled: row.enabled !== 0,
    maxAttempts: row.max_attempts,
  };
  if (problem) task.error = unreadable(row, problem).message;
  return task;
}

function unreadable(row: TaskRow, problem: Error, others: string[] = []): UnreadableScheduleError {
  return new UnreadableScheduleError(row.name, row.cron_expr, problem, others);
}

/** Hands each unreadable task to `onError`, or throws the first (naming the others). */
function report(tasks: UnreadableTask[], onError: TickOptions["onError"]): void {
  if (onError) {
    for (const { task, error } of tasks) onError(unreadable(task, error));
  } else if (tasks.length > 0) {
    const [first, ...rest] = tasks;
    throw unreadable(first.task, first.error, rest.map((r) => r.task.name));
  }
}

/**
 * The name of the queue a schedule targets; a Queue handle's schema, if any, checks `payload`
 * (a TypeError before anything is written).
 */
function targetQueue(target: ScheduleTarget<unknown>, payload: unknown, action: string): string {
  if (typeof target === "string") return requireName(target, "queue", action);
  if (typeof target !== "object" || target === null || typeof target.name !== "string") {
    const got = target === null || typeof target !== "object" ? String(target) : "an object";
    throw new TypeError(`Cannot ${action}: queue must be a queue name or a Queue, got ${got}`);
  }
  validateForWrite(target.schema, payload, action);
  return requireName(target.name, "queue", action);
}

/** A schedule's `key` option other than `true`: a key string, or null for none. */
function fireKey(key: unknown, action: string): string | null {
  if (key === undefined || key === false) return null;
  return requireJobKey(key, action);
}

/**
 * The schedules stored in the file. Any process may add or change them; `run()` elects one
 * leader that ticks them.
 *
 * @example Every weekday at 9:00, plus a leader in this process
 * ```ts ignore
 * const scheduler = db.scheduler();
 * scheduler.add({ name: "daily-report", queue: "reports", schedule: "0 9 * * 1-5" });
 * await scheduler.run({ signal });
 * ```
 */
export class Scheduler {
  #ctx: DatabaseContext;

  /** @internal Use `db.scheduler()`. */
  constructor(ctx: DatabaseContext) {
    this.#ctx = ctx;
  }

  /**
   * Registers (or replaces) a schedule; its first fire is the next boundary after now. An
   * existing schedule of that name with the same expression and queue keeps its next fire, so
   * calling `add()` at every boot loses no boundary (see `ScheduleSpec`). Given a Queue handle
   * as `queue`, the payload has that queue's payload type, and its schema, if any, checks it.
   *
   * @throws {TypeError|RangeError} For an invalid expression (naming the field) or option, or a
   * payload the target queue's schema refuses; nothing is written.
   */
  add<T = unknown>(spec: ScheduleSpec<T>): void {
    const action = `add schedule ${JSON.stringify(spec?.name)}`;
    const s = requireOptions(spec, action, SCHEDULE_SPEC_KEYS);
    const payload = s.payload ?? null;
    const task = {
      name: requireName(s.name, "name", action),
      queue: targetQueue(s.queue, payload, action),
      schedule: this.#schedule(s.schedule, s.extendedSyntax, action),
      payload: toJsonText(payload, action),
      priority: requireInteger(s.priority ?? 0, "priority", action),
      expiresS: s.expiresS == null ? null : requireSeconds(s.expiresS, "expiresS", action),
      maxAttempts: requireCount(s.maxAttempts ?? 3, "maxAttempts", action),
    };
    const key = s.key === true ? requireJobKey(task.name, action) : fireKey(s.key, action);
    const driver = this.#ctx.open(action);
    this.#ctx.transactions.atomic(() => {
      store.addTask(driver, task);
      setTaskKey(driver, task.name, key);
    });
    this.#ctx.wrote();
  }

  #schedule(expr: unknown, extendedSyntax: boolean | undefined, action: string): Schedule {
    if (typeof expr !== "string") {
      throw new TypeError(`Cannot ${action}: schedule must be a cron expression string`);
    }
    return parseSchedule(expr, { extendedSyntax: extendedSyntax === true });
  }

  /** Deletes a schedule; false when there was none of that name. */
  remove(name: string): boolean {
    const action = `remove schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const driver = this.#ctx.open(action);
    const removed = this.#ctx.transactions.atomic(() => store.removeTask(driver, name)) > 0;
    if (removed) this.#ctx.wrote();
    return removed;
  }

  /** Stops a schedule from firing; false when it is missing or already paused. */
  pause(name: string): boolean {
    return this.#toggle(name, false, "pause");
  }

  /** Lets a paused schedule fire again (missed boundaries catch up); false if not paused. */
  resume(name: string): boolean {
    return this.#toggle(name, true, "resume");
  }

  #toggle(name: string, enabled: boolean, verb: string): boolean {
    const action = `${verb} schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const driver = this.#ctx.open(action);
    const changed = this.#ctx.transactions.atomic(() => store.setEnabled(driver, name, enabled));
    if (changed) this.#ctx.wrote();
    return changed;
  }

  /**
   * Changes the given fields of a schedule; false when it does not exist or no field is
   * given. A new expression's first fire is computed from now; the stored expression given
   * again keeps the next fire, and so do the other fields.
   */
  update<T = unknown>(name: string, fields: ScheduleUpdate<T>): boolean {
    const action = `update schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const f = requireOptions(fields, action, SCHEDULE_UPDATE_KEYS);
    const changes: TaskChanges = {};
    const schedule = f.schedule == null
      ? undefined
      : this.#schedule(f.schedule, f.extendedSyntax, action);
    if ("payload" in f) changes.payload = toJsonText(f.payload ?? null, action);
    if (f.priority !== undefined) changes.priority = requireInteger(f.priority, "priority", action);
    if ("expiresS" in f) {
      changes.expiresS = f.expiresS == null ? null : requireSeconds(f.expiresS, "expiresS", action);
    }
    if ("maxAttempts" in f) {
      changes.maxAttempts = f.maxAttempts == null
        ? null
        : requireCount(f.maxAttempts, "maxAttempts", action);
    }
    const driver = this.#ctx.open(action);
    const changed = this.#ctx.transactions.atomic(() =>
      store.changeTask(driver, name, changes, schedule)
    );
    if (changed) this.#ctx.wrote();
    return changed;
  }

  /**
   * Every schedule, by name, from honker's table and honker-ts's own. One honker-ts cannot read
   * carries an `error`.
   */
  list<T = unknown>(): ScheduledTask<T>[] {
    const driver = this.#ctx.open("list schedules");
    const keys = taskKeys(driver);
    return store.listTasks(driver).map((listed) => {
      const task = toTask<T>(listed);
      const key = keys.get(task.name);
      if (key !== undefined) task.key = key;
      return task;
    });
  }

  /**
   * Fires every boundary due at `nowS` (default: now): one job per boundary, at most 64 missed
   * boundaries per schedule (the rest are skipped). Safe to call from several processes: each
   * boundary fires once. `run()` calls this for you.
   *
   * A due schedule honker-ts cannot read is left as it is, and the others fire; each is handed
   * to `options.onError` once the fires are committed.
   *
   * @throws {UnreadableScheduleError} Without `onError`, after committing the others' fires,
   * when a due schedule cannot be read (the message names the others).
   */
  tick(nowS?: number, options?: TickOptions): Fire[] {
    const action = "tick the scheduler";
    const at = nowS === undefined ? undefined : requireInteger(nowS, "nowS", action);
    const { onError } = requireOptions(options, action, ["onError"]);
    if (onError !== undefined && typeof onError !== "function") {
      throw new TypeError(`Cannot ${action}: onError must be a function`);
    }
    return this.#tick(action, at, onError, false);
  }

  /**
   * @internal The tick `run()` makes on its own: a background write that throws a transient
   * SqliteError instead of blocking while another process holds the write lock.
   */
  tickInBackground(onError: TickOptions["onError"]): Fire[] {
    return this.#tick("tick the scheduler", undefined, onError, true);
  }

  #tick(
    action: string,
    at: number | undefined,
    onError: TickOptions["onError"],
    background: boolean,
  ): Fire[] {
    const tick = (driver: SqliteDriver) =>
      this.#ctx.transactions.atomic(() => store.tickAll(driver, at ?? sqlNow(driver)));
    const out = this.#ctx.write(action, tick, background);
    if (out.fires.length > 0 || out.moved > 0) this.#ctx.wrote();
    report(out.unreadable, onError);
    return out.fires.map((f) => ({
      name: f.name,
      queue: f.queue,
      fireAt: f.fire_at,
      jobId: f.job_id,
    }));
  }

  /**
   * Unix seconds of the earliest next fire of an enabled schedule, or 0 when there is none. An
   * overdue schedule that cannot be read never fires, so it does not count.
   */
  soonest(): number {
    const driver = this.#ctx.open("read the scheduler");
    return store.soonestReadable(driver, sqlNow(driver));
  }

  /**
   * Runs a scheduler leader until `signal` aborts: contends for the `honker-scheduler` lock
   * (TTL 60 s, renewed every 20 s), and while it holds it ticks at every boundary. Other
   * processes running `run()` wait as hot standbys and take over when the leader releases
   * (at once, on abort) or its lock lapses. A schedule that cannot be read goes to
   * `options.onError` once (see `SchedulerRunOptions`).
   */
  run(options?: SchedulerRunOptions): Promise<void> {
    return runScheduler(this, this.#ctx, options);
  }
}
