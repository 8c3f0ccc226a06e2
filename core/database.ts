/**
 * The Database: one connection to a honker file, its transactions, and the handles on what
 * lives in it (queues, streams, notifications, the scheduler, locks, rate limits, results). The
 * connection's set-up and shared state are in `database_context.ts`.
 *
 * @module
 */

import type { SqliteDriver } from "./db/driver.ts";
import { listen, notify, pruneNotifications } from "./notify/notify.ts";
import type { ListenOptions, Notification, PruneNotificationsOptions } from "./notify/notify.ts";
import type { Lock } from "./lock/lock.ts";
import { tryLock } from "./lock/try_lock.ts";
import type { LockOptions } from "./lock/try_lock.ts";
import { withLock } from "./lock/with_lock.ts";
import type { LockContext, WithLockOptions } from "./lock/with_lock.ts";
import { Outbox, outboxQueueName, outboxQueueOptions } from "./outbox/outbox.ts";
import type { OutboxDelivery, OutboxOptions } from "./outbox/outbox.ts";
import { Queue } from "./queue/queue.ts";
import type { QueueOptions } from "./queue/queue.ts";
import { getResult, saveResult, sweepResults } from "./queue/results.ts";
import type { GetResultOptions, SaveResultOptions } from "./queue/results.ts";
import type { StandardSchemaV1 } from "./db/standard_schema.ts";
import { sweepRateLimits, tryRateLimit } from "./rate_limit/rate_limit.ts";
import type { RateLimitOptions, SweepRateLimitsOptions } from "./rate_limit/rate_limit.ts";
import { runMaintenance } from "./maintenance/maintenance.ts";
import type { MaintenanceCounts } from "./maintenance/maintenance.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { Stream } from "./stream/stream.ts";
import type { StreamOptions } from "./stream/stream.ts";
import type { Transaction } from "./db/transaction.ts";
import { changeHints } from "./wait/change_hints.ts";
import type { DatabaseInit, WakeSource } from "./database_options.ts";
import { ConnectionState } from "./database_context.ts";
import { requireOptions } from "./db/validate.ts";

/**
 * An open honker database. Get one from `open()` or `fromDriver()`.
 *
 * @example Open, enqueue, close
 * ```ts ignore
 * import { open } from "honker-ts";
 *
 * await using db = await open("app.db");
 * db.queue("emails").enqueue({ to: "a@example.com" });
 * ```
 */
export class Database {
  /**
   * The connection every operation runs on: the driver given, or, when honker's SQL functions
   * could not be registered on it (or `sqlFunctions: false`), that driver behind a wrapper
   * whose "no such function: notify" errors say why.
   */
  readonly driver: SqliteDriver;
  /** The connection's state and the context every handle runs on (core/database_context.ts). */
  #ctx: ConnectionState;

  /** @internal Use `open()` or `fromDriver()`. */
  constructor(driver: SqliteDriver, init: DatabaseInit) {
    this.#ctx = new ConnectionState(driver, init);
    this.driver = this.#ctx.appDriver;
  }

  /** The database file path. */
  get path(): string {
    return this.driver.path;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#ctx.closed;
  }

  /**
   * What notices other processes' commits (the `wake` mode asked for resolved): "fs" or
   * "poll"; "local" means nothing does. The watcher starts at the first wait, and in auto mode
   * may then move from "fs" to "poll" when the directory's events do not arrive.
   */
  get wakeSource(): WakeSource {
    return this.#ctx.wakeSource;
  }

  /**
   * Change hints, for advanced use: yields the change counter each time something may have
   * been committed to the file (by any process). A hint is not data; re-read what you need.
   * Ends on abort, `return()` or `close()`; throws WatcherDiedError if the file is replaced.
   *
   * @example Refresh a view on every commit
   * ```ts ignore
   * for await (const _ of db.updates({ signal })) render(queue.stats());
   * ```
   */
  updates(options?: { signal?: AbortSignal }): AsyncIterableIterator<number> {
    const action = "watch for updates";
    this.#ctx.open(action);
    return changeHints(this.#ctx.waker, requireOptions(options, action, ["signal"]).signal);
  }

  /**
   * A handle on the named queue. Handles are cheap; options apply to this handle only.
   *
   * @example A queue with a short visibility timeout
   * ```ts ignore
   * const thumbnails = db.queue<{ imageId: number }>("thumbnails", { visibilityTimeoutS: 30 });
   * ```
   */
  queue<T = unknown, In = T>(name: string, options?: QueueOptions<T, In>): Queue<T, In> {
    this.#ctx.open(`open queue ${JSON.stringify(name)}`);
    return new Queue<T, In>(this.#ctx, name, options);
  }

  /**
   * Stores a job's result as JSON (upsert by job id), expiring after `ttlS` seconds: by default
   * `retention.resultsS` (7 days unless changed; never with `retention: false`); 0 keeps it
   * forever, as in honker. Results are keyed by job id alone (job ids are unique across the
   * file's queues), as in honker's `_honker_results`.
   *
   * @example Save what a handler computed
   * ```ts ignore
   * db.saveResult(job.id, { pages: 12 }, { ttlS: 3600 });
   * ```
   */
  saveResult(jobId: number, value: unknown, options?: SaveResultOptions): void {
    saveResult(this.#ctx, jobId, value, options, this.#ctx.retention.resultsS ?? 0);
  }

  /**
   * Reads a job's saved result, validated by `schema`: the schema's output, or undefined when
   * absent or expired.
   *
   * @throws {TypeError} When the stored value does not match the schema.
   *
   * @example Read a result with a schema
   * ```ts ignore
   * const report = db.getResult(id, { schema: z.object({ pages: z.number() }) });
   * ```
   */
  getResult<R>(jobId: number, options: { schema: StandardSchemaV1<unknown, R> }): R | undefined;
  /**
   * Reads a job's saved result (JSON), or undefined when absent or expired. Nothing checks it:
   * it is `unknown` unless you name `R`, which is then taken on trust; pass `{ schema }` to check.
   */
  getResult<R = unknown>(jobId: number, options?: { schema?: undefined }): R | undefined;
  getResult(jobId: number, options?: GetResultOptions): unknown {
    return getResult(this.#ctx, jobId, options);
  }

  /** Deletes expired results, of every queue. Returns how many. Maintenance also does this. */
  sweepResults(): number {
    return sweepResults(this.#ctx);
  }

  /**
   * A transactional outbox named `name` (its messages live in the queue `_outbox:<name>`, as in
   * honker): enqueue with `{ tx }` inside your transaction, and `run()` delivers.
   *
   * @example Deliver webhooks after commit
   * ```ts ignore
   * const hooks = db.outbox("hooks", async (body) => await post(body));
   * db.transaction((tx) => hooks.enqueue({ orderId: 42 }, { tx }));
   * await hooks.run({ signal });
   * ```
   */
  outbox<T = unknown>(
    name: string,
    delivery: OutboxDelivery<T>,
    options?: OutboxOptions,
  ): Outbox<T> {
    const { baseBackoffS, ...queueOptions } = outboxQueueOptions(name, delivery, options);
    const queue = this.queue<T>(outboxQueueName(name), queueOptions);
    return new Outbox<T>(name, queue, delivery, baseBackoffS);
  }

  /**
   * The cron scheduler: schedules stored in the file that enqueue jobs at each boundary, and
   * `run()` to lead (or stand by) from this process.
   *
   * @example Fire every two seconds
   * ```ts ignore
   * const scheduler = db.scheduler();
   * scheduler.add({ name: "heartbeat", queue: "pings", schedule: "@every 2s" });
   * await scheduler.run({ signal });
   * ```
   */
  scheduler(): Scheduler {
    this.#ctx.open("open the scheduler");
    return new Scheduler(this.#ctx);
  }

  /**
   * A handle on the named stream (topic). Handles are cheap.
   *
   * @example Publish an event
   * ```ts ignore
   * db.stream<{ id: number }>("orders").publish({ id: 42 });
   * ```
   */
  stream<T = unknown, In = T>(topic: string, options?: StreamOptions<T, In>): Stream<T, In> {
    this.#ctx.open(`open stream ${JSON.stringify(topic)}`);
    return new Stream<T, In>(this.#ctx, topic, options);
  }

  /**
   * Sends a notification on `channel` (JSON payload); listeners see it once it commits. Pass
   * `{ tx }` to send it with your own writes. Returns its id.
   *
   * @example Notify inside a transaction
   * ```ts ignore
   * db.transaction((tx) => {
   *   tx.run("UPDATE orders SET state = 'paid' WHERE id = ?", [42]);
   *   db.notify("orders", { id: 42, state: "paid" }, { tx });
   * });
   * ```
   */
  notify(channel: string, payload: unknown, options?: { tx?: Transaction }): number {
    return notify(this.#ctx, channel, payload, options);
  }

  /**
   * Yields notifications sent on `channel` after this call, in order, from any process. There
   * is no replay of older ones: use a stream for that. Payloads are `unknown`; with
   * `{ schema }` each is validated and typed by the schema's output. A type parameter named
   * without a schema is a cast: nothing checks it.
   *
   * @example Listen until aborted, payloads checked
   * ```ts ignore
   * const Order = z.object({ id: z.number() });
   * for await (const n of db.listen("orders", { schema: Order, signal })) console.log(n.payload.id);
   * ```
   */
  listen<T = unknown>(
    channel: string,
    options?: ListenOptions<T>,
  ): AsyncIterableIterator<Notification<T>> {
    return listen<T>(this.#ctx, channel, options);
  }

  /**
   * Deletes notifications with honker's rules: `olderThanS` and `maxKeep` each add a condition,
   * and a row matching either is deleted. Returns how many. Maintenance also deletes
   * notifications older than `retention.notificationsS` (a day by default).
   *
   * @example Keep the newest 10,000
   * ```ts ignore
   * db.pruneNotifications({ maxKeep: 10_000 });
   * ```
   */
  pruneNotifications(options?: PruneNotificationsOptions): number {
    return pruneNotifications(this.#ctx, options);
  }

  /**
   * Takes the named lock for `owner` (a random UUID unless given) for `ttlS` seconds (60 unless
   * given), unless another owner holds it; an expired lock is taken over. Returns the Lock, or
   * null when someone else has it. As in honker, taking a lock again as its owner succeeds
   * without extending it: renew with `heartbeat()`.
   *
   * @example Run a job on one machine only
   * ```ts ignore
   * using lock = db.tryLock("nightly-report", { owner: "host-a", ttlS: 600 });
   * if (lock) await buildReport();
   * ```
   */
  tryLock(name: string, options?: LockOptions): Lock | null {
    return tryLock(this.#ctx, name, options);
  }

  /**
   * Waits for the named lock (woken by commits from any process, and by the holder's expiry),
   * runs `fn` holding it, renewing it every `ttlS / 3` seconds, and releases it after. Resolves
   * with what `fn` returns.
   *
   * @throws {LockHeldError} When another owner still holds the lock after `waitMs`
   * milliseconds.
   *
   * @example Wait up to 10 s for a migration lock
   * ```ts ignore
   * await db.withLock("migrate", async () => await migrate(), { waitMs: 10_000 });
   * ```
   */
  withLock<T>(
    name: string,
    fn: (lock: Lock, context: LockContext) => T | Promise<T>,
    options?: WithLockOptions,
  ): Promise<T> {
    return withLock(this.#ctx, name, fn, options);
  }

  /**
   * Counts one call against a fixed-window rate limit: at most `limit` calls per `perS`-second
   * window, shared with every process on the file. Returns false, counting nothing, when the
   * current window is full.
   *
   * @example Ten emails a minute
   * ```ts ignore
   * if (db.tryRateLimit("emails", { limit: 10, perS: 60 })) await send();
   * ```
   */
  tryRateLimit(name: string, options: RateLimitOptions): boolean {
    return tryRateLimit(this.#ctx, name, options);
  }

  /**
   * Deletes rate-limit windows that started more than `olderThanS` seconds ago. Returns how
   * many. Maintenance also deletes past windows by itself (see `retention.rateLimitsS`).
   *
   * @example Keep a day of windows
   * ```ts ignore
   * db.sweepRateLimits({ olderThanS: 86_400 });
   * ```
   */
  sweepRateLimits(options: SweepRateLimitsOptions): number {
    return sweepRateLimits(this.#ctx, options);
  }

  /**
   * Applies the retention now, on every table it covers, and returns how many rows it deleted
   * per table. The maintenance task does this by itself in the background of a Database that
   * waits (a worker, a subscriber); a program that only writes (a CLI command, a cron job)
   * starts no timer, and can call this instead. Works in chunks of 1000 rows, each its own short
   * write; with `retention: false` it deletes nothing.
   *
   * @example Trim once from a nightly job
   * ```ts ignore
   * const { dead, results } = db.runMaintenance();
   * ```
   */
  runMaintenance(): MaintenanceCounts {
    return runMaintenance(this.#ctx, this.#ctx.retention);
  }

  /**
   * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` and returns its result; rolls back if it throws.
   * `fn` must be synchronous. Pass the transaction as `{ tx }` to enqueue atomically with your
   * own writes. When a transaction the application began is open on the shared connection (an
   * ORM's), `fn` runs in a SAVEPOINT of it instead, and commits or rolls back with it.
   *
   * @throws {TypeError} When `fn` returns a Promise (the transaction is rolled back).
   * @throws {Error} When a `transaction()` callback of this database is already running.
   *
   * @example Business write and job commit together
   * ```ts ignore
   * db.transaction((tx) => {
   *   tx.run("INSERT INTO orders (id) VALUES (?)", [42]);
   *   db.queue("emails").enqueue({ orderId: 42 }, { tx });
   * });
   * ```
   */
  transaction<T>(fn: (tx: Transaction) => T): T {
    this.#ctx.open("start a transaction");
    const result = this.#ctx.transactions.run(fn);
    this.#ctx.wrote();
    return result;
  }

  /** Closes the database. Idempotent; every later call throws DatabaseClosedError. */
  close(): void {
    this.#ctx.close();
  }

  /** Closes the database at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Closes the database at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
