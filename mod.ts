/**
 * honker-ts: durable queues, streams, notify/listen, a cron scheduler, locks and rate limits
 * inside the application's own SQLite file, on-disk compatible with honker.
 *
 * ```ts ignore
 * import { open } from "honker-ts";
 *
 * const db = await open("app.db");
 * const emails = db.queue<{ to: string }>("emails");
 * emails.enqueue({ to: "a@example.com" });
 * const job = emails.claimOne("worker-1");
 * if (job) job.ack();
 * db.close();
 * ```
 *
 * @module
 */

import { openDriver } from "./adapters/auto.ts";
import type { DriverName } from "./adapters/auto.ts";
import { Database } from "./core/database.ts";
import type { DatabaseInit, DatabaseOptions } from "./core/database_options.ts";
import type { SqliteDriver } from "./core/db/driver.ts";
import { requireRetention } from "./core/maintenance/retention.ts";
import { requireOptions } from "./core/db/validate.ts";
import { startWatcher } from "./wake/watcher.ts";
import { unrefTimer } from "./platform/timers.ts";
import { checkWatchOptions, WATCH_OPTION_KEYS } from "./wake/watch_options.ts";

export { Database } from "./core/database.ts";
export type {
  DatabaseOptions,
  WakeMode,
  WakeSource,
  WatchOptions,
} from "./core/database_options.ts";
export type {
  Row,
  RunResult,
  SqlFunction,
  SqlFunctionOptions,
  SqliteDriver,
  SqlValue,
} from "./core/db/driver.ts";
export {
  DatabaseClosedError,
  isTransientSqliteError,
  LockHeldError,
  SqliteError,
  UnsupportedDatabaseError,
  WatcherDiedError,
} from "./core/db/errors.ts";
export { Lock, LOCK_TTL_DEFAULT_S } from "./core/lock/lock.ts";
export type { LockOptions } from "./core/lock/try_lock.ts";
export type { LockContext, WithLockOptions } from "./core/lock/with_lock.ts";
export type { RateLimitOptions, SweepRateLimitsOptions } from "./core/rate_limit/rate_limit.ts";
export { Job } from "./core/queue/job.ts";
export type { JobOutcome } from "./core/queue/job.ts";
export {
  MAX_ATTEMPTS_DEFAULT,
  Queue,
  QueueAdmin,
  QueueProducer,
  VISIBILITY_TIMEOUT_DEFAULT_S,
} from "./core/queue/queue.ts";
export type { EnqueueOptions, JobInfo, QueueOptions, QueueStats } from "./core/queue/queue.ts";
export type { DeadJobInfo, JobListState, JobsOptions, ListedJob } from "./core/queue/queue.ts";
export type { JobKeyOptions } from "./core/queue/job_keys_options.ts";
export type { UniqueEnqueue } from "./core/queue/job_keys.ts";
export type { ClaimOptions } from "./core/queue/claim.ts";
export type { GetResultOptions, SaveResultOptions } from "./core/queue/results.ts";
export type {
  JobEvent,
  JobEventData,
  JobEventsOptions,
  JobEventType,
} from "./core/queue/events.ts";
export { JobFailedError, JobNotFoundError, JobWaitTimeoutError } from "./core/queue/job_errors.ts";
export type { WaitForOptions } from "./core/queue/wait_for.ts";
export { RESULT_TTL_DEFAULT_S } from "./core/queue/job_outcome.ts";
export { Outbox } from "./core/outbox/outbox.ts";
export type { OutboxDelivery, OutboxOptions, OutboxRunOptions } from "./core/outbox/outbox.ts";
export { Scheduler } from "./core/scheduler/scheduler.ts";
export type {
  Fire,
  ScheduledTask,
  ScheduleSpec,
  ScheduleTarget,
  ScheduleUpdate,
  TickOptions,
} from "./core/scheduler/scheduler.ts";
export { UnreadableScheduleError } from "./core/scheduler/errors.ts";
export type { SchedulerRunOptions } from "./core/scheduler/run.ts";
export { nextFireAfter, parseSchedule } from "./core/scheduler/cron/cron.ts";
export type { Schedule, ScheduleOptions } from "./core/scheduler/cron/cron.ts";
export { Stream } from "./core/stream/stream.ts";
export type {
  ConsumerInfo,
  PublishOptions,
  StreamEvent,
  StreamOptions,
  TrimOptions,
  WaitForEventsOptions,
} from "./core/stream/stream.ts";
export type { StandardIssue, StandardResult, StandardSchemaV1 } from "./core/db/standard_schema.ts";
export type { SubscribeOptions, Subscription } from "./core/stream/subscription.ts";
export type {
  ListenOptions,
  Notification,
  PruneNotificationsOptions,
} from "./core/notify/notify.ts";
export { RETENTION_DEFAULT } from "./core/maintenance/retention.ts";
export type { RetentionOptions } from "./core/maintenance/retention.ts";
export type { MaintenanceCounts } from "./core/maintenance/maintenance.ts";
export type { JobContext, JobHandler, WorkOptions, WorkResult } from "./core/queue/work.ts";
export { Worker } from "./core/queue/worker.ts";
export type { WorkerCloseOptions } from "./core/queue/worker.ts";
export type { WorkerCompleted, WorkerEventMap, WorkerFailed } from "./core/queue/worker_events.ts";
export type { BatchHandler, BatchWorkOptions } from "./core/queue/work_batch.ts";
export type { Backoff, BackoffOptions } from "./core/queue/backoff.ts";
export type { JobRunOptionsInput } from "./core/queue/job_options.ts";
export { JobTimeoutError } from "./core/queue/work_timeout.ts";
export type { DeadJob, DeadLettersOptions, PurgeDeadOptions } from "./core/queue/dead_letters.ts";
export { Transaction } from "./core/db/transaction.ts";
export type { DriverName } from "./adapters/auto.ts";

/** Options for `open()`. */
export interface OpenOptions extends DatabaseOptions {
  /**
   * Which SQLite binding to use: a built-in adapter's name, or a SqliteDriver you opened
   * yourself (then `close()` leaves it open). Defaults to bun:sqlite on Bun and node:sqlite on
   * Deno and Node; `"deno-ffi"` and `"bun-ffi"` use the system libsqlite3 through FFI.
   */
  driver?: DriverName | SqliteDriver;
}

/**
 * Opens (creating if needed) a honker database file: sets honker's pragmas and WAL mode,
 * bootstraps the schema, and registers honker's SQL functions on the connection.
 *
 * @param path The database file. In-memory databases are refused.
 * @param options The driver to use and whether to register SQL functions.
 * @returns The open Database.
 * @throws {UnsupportedDatabaseError} For an in-memory database, SQLite older than 3.38, a
 * database that cannot be put into WAL mode, or a file in a newer honker format.
 * @throws {SqliteError} When the file cannot be opened; the message names the path, and its
 * directory when that does not exist.
 *
 * @example Open with the runtime's default driver
 * ```ts ignore
 * import { open } from "honker-ts";
 *
 * const db = await open("app.db");
 * ```
 */
export async function open(path: string, options: OpenOptions = {}): Promise<Database> {
  if (typeof path !== "string" || path.length === 0) {
    throw new TypeError(`Cannot open a database: path must be a non-empty string`);
  }
  checkOptions(options, [...DATABASE_OPTION_KEYS, "driver"]);
  const given = options.driver;
  if (given !== undefined && typeof given === "object") {
    return new Database(given, init(options, false));
  }
  const driver = await openDriver(path, given);
  try {
    return new Database(driver, init(options, true));
  } catch (error) {
    driver.close();
    throw error;
  }
}

/** Every key of `DatabaseOptions`. */
const DATABASE_OPTION_KEYS: readonly (keyof DatabaseOptions)[] = [
  "busyTimeoutMs",
  "sqlFunctions",
  "notificationRetention",
  "retention",
  ...WATCH_OPTION_KEYS,
];

/** Checks the options of `open()` and `fromDriver()` before anything is opened or written. */
function checkOptions(options: OpenOptions, known: readonly (keyof OpenOptions)[]): void {
  const action = "open the database";
  requireOptions(options, action, known);
  checkWatchOptions(options);
  requireRetention(options.retention, options.notificationRetention);
}

function init(options: DatabaseOptions, ownsDriver: boolean): DatabaseInit {
  return {
    ...options,
    ownsDriver,
    startWatcher: (waker, driver) => startWatcher(waker, driver, options),
    unrefTimer,
  };
}

/**
 * Builds a Database on a driver the caller already has: the application's own connection, so
 * that business writes and queue writes commit in one transaction. The caller keeps ownership:
 * `db.close()` does not close the driver.
 *
 * @param driver A connection from one of the adapters.
 * @param options Whether to register honker's SQL functions.
 * @returns The Database, schema bootstrapped.
 * @throws {UnsupportedDatabaseError} For an in-memory database, SQLite older than 3.38, a
 * database that cannot be put into WAL mode, or a file in a newer honker format.
 *
 * @example Share a node:sqlite connection
 * ```ts ignore
 * import { DatabaseSync } from "node:sqlite";
 * import { fromDriver } from "honker-ts";
 * import { fromNodeSqlite } from "honker-ts/adapters/node-sqlite";
 *
 * const handle = new DatabaseSync("app.db");
 * const db = fromDriver(fromNodeSqlite(handle, { path: "app.db" }));
 * ```
 */
export function fromDriver(driver: SqliteDriver, options: DatabaseOptions = {}): Database {
  checkOptions(options, DATABASE_OPTION_KEYS);
  return new Database(driver, init(options, false));
}
