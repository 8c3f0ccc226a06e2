/**
 * The scheduler's option and result types, apart from the class: what `add()` and `update()`
 * take (and their keys, for the check of unknown options), what `list()` and `tick()` return.
 *
 * @module
 */

import type { Queue } from "../queue/queue.ts";
import type { UnreadableScheduleError } from "./errors.ts";

/**
 * The queue a schedule enqueues into: its name, or a Queue handle. A handle types the payload
 * with the queue's payload type (what its `enqueue()` takes), and its schema, if any, checks
 * the payload when the schedule is added. The schedule stores only the queue's name.
 */
export type ScheduleTarget<T> = string | Pick<Queue<unknown, T>, "name" | "schema">;

/**
 * A schedule to register with `add()`. Registering the same schedule at every boot is safe: an
 * existing schedule of that name keeps its next fire unless its `schedule` or `queue` changed,
 * so the boundaries that fell due while no process ran still fire (up to 64).
 */
export interface ScheduleSpec<T = unknown> {
  /**
   * Unique name; adding an existing name replaces it, keeping it paused if it was, and keeping
   * its next fire if `schedule` and `queue` are unchanged (a new payload, priority, expiry or
   * maxAttempts applies from the next fire on and does not move it).
   */
  name: string;
  /** The queue each fire enqueues into: its name, or a Queue handle (see `ScheduleTarget`). */
  queue: ScheduleTarget<T>;
  /** honker's cron syntax (5 or 6 fields) or `@every <n><s|m|h|d>`. */
  schedule: string;
  /** The payload of every job it enqueues (JSON). Defaults to null. */
  payload?: NoInfer<T>;
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
  /**
   * A unique key for its jobs (`true`: the schedule's name): while the job of an earlier fire is
   * live (pending or processing), a fire adds no job, so a slow task never piles up. Stored in
   * honker-ts's own `_honker_ts_scheduler_keys`; only a honker-ts leader honors it (a honker
   * leader enqueues every fire). Omit it (or `false`) for one job per fire.
   */
  key?: boolean | string;
}

/** Fields `update()` changes; omitted ones stay as they are. */
export interface ScheduleUpdate<T = unknown> {
  /**
   * A new expression; the next fire is recomputed from now (the stored expression given again
   * keeps it). The schedule moves between honker's table and honker-ts's own when it starts or
   * stops needing extended syntax.
   */
  schedule?: string;
  /** The new payload; `null` stores JSON null (omit the key to keep the payload). */
  payload?: T;
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
export const SCHEDULE_SPEC_KEYS: readonly (keyof ScheduleSpec)[] = [
  "name",
  "queue",
  "schedule",
  "payload",
  "priority",
  "expiresS",
  "maxAttempts",
  "extendedSyntax",
  "key",
];

/** Every key of `ScheduleUpdate`. */
export const SCHEDULE_UPDATE_KEYS: readonly (keyof ScheduleUpdate)[] = [
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
  /** The unique key its fires carry (see `ScheduleSpec.key`); absent when it has none. */
  key?: string;
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
