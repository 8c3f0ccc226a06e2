/**
 * The cron scheduler (spec §5): named schedules that enqueue a job into a queue at each
 * boundary, ticked by one leader at a time across every process on the file.
 *
 * @module
 */

import type { DatabaseContext } from "./_context.ts";
import { parseSchedule } from "./cron.ts";
import { parseJson, toJsonText } from "./json.ts";
import { runScheduler } from "./scheduler_run.ts";
import type { SchedulerRunOptions } from "./scheduler_run.ts";
import * as ops from "./scheduler_ops.ts";
import type { TaskChanges, TaskRow } from "./scheduler_ops.ts";
import { TASK_DELETE, TASK_LIST, TASK_PAUSE, TASK_RESUME } from "./scheduler_sql.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
} from "./validate.ts";

/** A schedule to register with `add()`. */
export interface ScheduleSpec {
  /** Unique name; adding an existing name replaces it (keeping it paused if it was). */
  name: string;
  /** The queue each fire enqueues into. */
  queue: string;
  /** honker's cron syntax (5 or 6 fields) or `@every <n><s|m|h|d>`. */
  schedule: string;
  /** The payload of every job it enqueues (JSON). Defaults to null. */
  payload?: unknown;
  /** Priority of its jobs. Defaults to 0. */
  priority?: number;
  /** Seconds after which an unclaimed job expires; null never. Defaults to null. */
  expiresS?: number | null;
  /** Claims each job gets. Defaults to 3. */
  maxAttempts?: number;
  /** Accept croner's extended syntax (only honker-ts leaders can tick it). Defaults to false. */
  extendedSyntax?: boolean;
}

/** Fields `update()` changes; omitted ones stay as they are. */
export interface ScheduleUpdate {
  /** A new expression; the next fire is recomputed from now. */
  schedule?: string;
  /** The new payload; `null` stores JSON null (omit the key to keep the payload). */
  payload?: unknown;
  /** A new priority for future jobs. */
  priority?: number;
  /** A new expiry for future jobs; null never expires. */
  expiresS?: number | null;
  /** null restores the default, 3. */
  maxAttempts?: number | null;
  /** Accept croner's extended syntax in `schedule`. */
  extendedSyntax?: boolean;
}

/** Every key of `ScheduleSpec`. */
const SCHEDULE_SPEC_KEYS: readonly (keyof ScheduleSpec)[] = [
  "name",
  "queue",
  "schedule",
  "payload",
  "priority",
  "expiresS",
  "maxAttempts",
  "extendedSyntax",
];

/** Every key of `ScheduleUpdate`. */
const SCHEDULE_UPDATE_KEYS: readonly (keyof ScheduleUpdate)[] = [
  "schedule",
  "payload",
  "priority",
  "expiresS",
  "maxAttempts",
  "extendedSyntax",
];

/** A registered schedule, from `list()`. */
export interface ScheduledTask<T = unknown> {
  /** The schedule's name. */
  name: string;
  /** The queue it enqueues into. */
  queue: string;
  /** Its expression, as stored in `cron_expr`. */
  schedule: string;
  /** The payload of its jobs. */
  payload: T;
  /** The priority of its jobs. */
  priority: number;
  /** Seconds after which its jobs expire, or null. */
  expiresS: number | null;
  /** Unix seconds of its next boundary. */
  nextFireAt: number;
  /** False while paused. */
  enabled: boolean;
  /** Claims each of its jobs gets. */
  maxAttempts: number;
}

/** One boundary fired by `tick()`. */
export interface Fire {
  /** The schedule that fired. */
  name: string;
  /** The queue the job went to. */
  queue: string;
  /** The boundary, in unix seconds. */
  fireAt: number;
  /** The job it enqueued. */
  jobId: number;
}

function toTask<T>(row: TaskRow): ScheduledTask<T> {
  return {
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
   * Registers (or replaces) a schedule; its first fire is the next boundary after now.
   *
   * @throws {TypeError|RangeError} For an invalid expression (naming the field) or option;
   * nothing is written.
   */
  add(spec: ScheduleSpec): void {
    const action = `add schedule ${JSON.stringify(spec?.name)}`;
    const s = requireOptions(spec, action, SCHEDULE_SPEC_KEYS);
    const task = {
      name: requireName(s.name, "name", action),
      queue: requireName(s.queue, "queue", action),
      cronExpr: this.#schedule(s.schedule, s.extendedSyntax, action),
      payload: toJsonText(s.payload ?? null, action),
      priority: requireInteger(s.priority ?? 0, "priority", action),
      expiresS: s.expiresS == null ? null : requireSeconds(s.expiresS, "expiresS", action),
      maxAttempts: requireCount(s.maxAttempts ?? 3, "maxAttempts", action),
    };
    const driver = this.#ctx.open(action);
    ops.registerTask(driver, task, s.extendedSyntax === true);
    this.#ctx.wrote();
  }

  #schedule(expr: unknown, extendedSyntax: boolean | undefined, action: string): string {
    if (typeof expr !== "string") {
      throw new TypeError(`Cannot ${action}: schedule must be a cron expression string`);
    }
    parseSchedule(expr, { extendedSyntax: extendedSyntax === true });
    return expr;
  }

  /** Deletes a schedule; returns how many were deleted (0 or 1). */
  remove(name: string): number {
    const action = `remove schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const removed = this.#ctx.open(action).run(TASK_DELETE, [name]).changes;
    if (removed > 0) this.#ctx.wrote();
    return removed;
  }

  /** Stops a schedule from firing; false when it is missing or already paused. */
  pause(name: string): boolean {
    return this.#toggle(name, TASK_PAUSE, "pause");
  }

  /** Lets a paused schedule fire again (missed boundaries catch up); false if not paused. */
  resume(name: string): boolean {
    return this.#toggle(name, TASK_RESUME, "resume");
  }

  #toggle(name: string, sql: string, verb: string): boolean {
    const action = `${verb} schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const changed = this.#ctx.open(action).run(sql, [name]).changes > 0;
    if (changed) this.#ctx.wrote();
    return changed;
  }

  /**
   * Changes the given fields of a schedule; false when it does not exist or no field is
   * given. A new schedule's first fire is computed from now.
   */
  update(name: string, fields: ScheduleUpdate): boolean {
    const action = `update schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const f = requireOptions(fields, action, SCHEDULE_UPDATE_KEYS);
    const changes: TaskChanges = {};
    if (f.schedule != null) changes.cronExpr = this.#schedule(f.schedule, f.extendedSyntax, action);
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
      ops.updateTask(driver, name, changes, f.extendedSyntax === true)
    );
    if (changed) this.#ctx.wrote();
    return changed;
  }

  /** Every schedule, by name. */
  list<T = unknown>(): ScheduledTask<T>[] {
    return this.#ctx.open("list schedules").all<TaskRow>(TASK_LIST).map((row) => toTask<T>(row));
  }

  /**
   * Fires every boundary due at `nowS` (default: now): one job per boundary, at most 64 missed
   * boundaries per schedule (the rest are skipped). Safe to call from several processes: each
   * boundary fires once. `run()` calls this for you.
   */
  tick(nowS?: number): Fire[] {
    const action = "tick the scheduler";
    const driver = this.#ctx.open(action);
    const fires = this.#ctx.transactions.atomic(() => {
      const now = nowS === undefined ? ops.sqlNow(driver) : requireInteger(nowS, "nowS", action);
      return ops.tickTasks(driver, now);
    });
    if (fires.length > 0) this.#ctx.wrote();
    return fires.map((f) => ({ name: f.name, queue: f.queue, fireAt: f.fire_at, jobId: f.job_id }));
  }

  /** Unix seconds of the earliest next fire of an enabled schedule, or 0 when there is none. */
  soonest(): number {
    return ops.soonestFire(this.#ctx.open("read the scheduler"));
  }

  /**
   * Runs a scheduler leader until `signal` aborts: contends for the `honker-scheduler` lock
   * (TTL 60 s, renewed every 20 s), and while it holds it ticks at every boundary. Other
   * processes running `run()` wait as hot standbys and take over when the leader releases
   * (at once, on abort) or its lock lapses.
   */
  run(options?: SchedulerRunOptions): Promise<void> {
    return runScheduler(this, this.#ctx, options);
  }
}
