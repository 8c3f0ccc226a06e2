/**
 * The cron scheduler (spec §5): named schedules that enqueue a job into a queue at each
 * boundary, ticked by one leader at a time across every process on the file.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { parseSchedule } from "./cron/cron.ts";
import type { Schedule } from "./cron/cron.ts";
import { parseJson, toJsonText } from "../db/json.ts";
import { UnreadableScheduleError } from "./errors.ts";
import { runScheduler } from "./run.ts";
import type { SchedulerRunOptions } from "./run.ts";
import { sqlNow } from "./ops.ts";
import type { TaskChanges, TaskRow, UnreadableTask } from "./ops.ts";
import * as store from "./store.ts";
import {
  requireCount,
  requireInteger,
  requireName,
  requireOptions,
  requireSeconds,
} from "../db/validate.ts";

/**
 * A schedule to register with `add()`. Registering the same schedule at every boot is safe: an
 * existing schedule of that name keeps its next fire unless its `schedule` or `queue` changed,
 * so the boundaries that fell due while no process ran still fire (up to 64).
 */
export interface ScheduleSpec {
  /**
   * Unique name; adding an existing name replaces it, keeping it paused if it was, and keeping
   * its next fire if `schedule` and `queue` are unchanged (a new payload, priority, expiry or
   * maxAttempts applies from the next fire on and does not move it).
   */
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
  /**
   * Accept croner's extended syntax. A schedule that needs it is stored in honker-ts's own table
   * `_honker_ts_scheduler_tasks`, where honker's tick never meets it, and fires only while a
   * honker-ts process is the scheduler leader. Defaults to false.
   */
  extendedSyntax?: boolean;
}

/** Fields `update()` changes; omitted ones stay as they are. */
export interface ScheduleUpdate {
  /**
   * A new expression; the next fire is recomputed from now (the stored expression given again
   * keeps it). The schedule moves between honker's table and honker-ts's own when it starts or
   * stops needing extended syntax.
   */
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
  /**
   * Why honker-ts cannot fire it (a row written by hand, or by a newer honker); absent when it
   * can. Such a schedule is reported by `tick()` and `run()` and never fired.
   */
  error?: string;
}

/** Options for `tick()`. */
export interface TickOptions {
  /**
   * Told about each due schedule that cannot be read, after the others' fires are committed.
   * Without it, `tick()` throws the first such error (naming the others) instead.
   */
  onError?: (error: UnreadableScheduleError) => void;
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
   * calling `add()` at every boot loses no boundary (see `ScheduleSpec`).
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
      schedule: this.#schedule(s.schedule, s.extendedSyntax, action),
      payload: toJsonText(s.payload ?? null, action),
      priority: requireInteger(s.priority ?? 0, "priority", action),
      expiresS: s.expiresS == null ? null : requireSeconds(s.expiresS, "expiresS", action),
      maxAttempts: requireCount(s.maxAttempts ?? 3, "maxAttempts", action),
    };
    const driver = this.#ctx.open(action);
    this.#ctx.transactions.atomic(() => store.addTask(driver, task));
    this.#ctx.wrote();
  }

  #schedule(expr: unknown, extendedSyntax: boolean | undefined, action: string): Schedule {
    if (typeof expr !== "string") {
      throw new TypeError(`Cannot ${action}: schedule must be a cron expression string`);
    }
    return parseSchedule(expr, { extendedSyntax: extendedSyntax === true });
  }

  /** Deletes a schedule; returns how many were deleted (0 or 1). */
  remove(name: string): number {
    const action = `remove schedule ${JSON.stringify(name)}`;
    requireName(name, "name", action);
    const driver = this.#ctx.open(action);
    const removed = this.#ctx.transactions.atomic(() => store.removeTask(driver, name));
    if (removed > 0) this.#ctx.wrote();
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
  update(name: string, fields: ScheduleUpdate): boolean {
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
    return store.listTasks(this.#ctx.open("list schedules")).map((task) => toTask<T>(task));
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
    const out = background ? this.#ctx.background(action, tick) : tick(this.#ctx.open(action));
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
