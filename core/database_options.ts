/**
 * How a Database is opened: the options `open()` and `fromDriver()` take, and the internal init
 * record they build.
 *
 * @module
 */

import type { SqliteDriver } from "./db/driver.ts";
import type { PruneNotificationsOptions } from "./notify/notify.ts";
import type { RetentionOptions } from "./maintenance/retention.ts";
import { requireTimerMs } from "./db/validate.ts";
import type { Waker } from "./wait/waker.ts";

/** How long a call the application makes waits for the write lock by default, as honker. */
export const BUSY_TIMEOUT_DEFAULT_MS = 5000;

/**
 * How long a write honker-ts makes on its own (a background claim, ack, heartbeat, offset save,
 * renewal) blocks the event loop waiting for the write lock before it gives up and is retried
 * asynchronously: short, so that another process holding the lock for seconds delays timers
 * by milliseconds, not seconds.
 *
 * The wait itself is SQLite's busy handler, whose first sleep is a whole millisecond while a
 * claim or an ack holds the lock for a tenth of one. Shorter waits were measured and lost, at
 * 1,000 jobs/s on 4 processes × 8 (`bench/ab.ts`, 3 pairs per runtime): retrying in steps of
 * 50–400 µs, and a claim that gives up at once and looks again at the holder's commit, both
 * raised the workers' CPU per job by 0.1–0.2 ms and made p50 and p99 worse or no better. There
 * the machine's cores are the bottleneck, and a loser asleep in the busy handler leaves them to
 * the winner.
 */
export const BACKGROUND_BUSY_TIMEOUT_MS = 20;

/** Checks the `busyTimeoutMs` option (milliseconds, 0 = fail at once when busy). */
export function requireBusyTimeoutMs(value: unknown): number {
  if (value === undefined) return BUSY_TIMEOUT_DEFAULT_MS;
  return Math.floor(requireTimerMs(value, "busyTimeoutMs", "open the database", true));
}

/**
 * The wake-up `open()` is asked for: `"fs"` (file-system events), `"poll"` (a worker thread
 * polling), or `"auto"` (fs, falling back to poll when events do not arrive). What a running
 * Database ended up with is its `WakeSource`.
 */
export type WakeMode = "auto" | "fs" | "poll";

/**
 * What notices other processes' commits in a running Database (`db.wakeSource`): `"fs"` or
 * `"poll"` once its watcher runs (auto mode may move from fs to poll), `"local"` when there is
 * no watcher (a Database from `testing/`'s helpers, say): only its own commits wake it.
 */
export type WakeSource = "fs" | "poll" | "local";

/** How other processes' commits are noticed: the watcher's options, given to `open()`. */
export interface WatchOptions {
  /**
   * `"fs"` (file-system events confirmed by `PRAGMA data_version`, with a slow backstop poll),
   * `"poll"` (a worker thread polling `data_version`), or `"auto"` (default: fs, falling back
   * to poll when events do not arrive, reported once per process on the console; choose
   * `"poll"` to poll without it).
   */
  wake?: WakeMode;
  /** Poll mode: milliseconds between `data_version` polls. Defaults to 1. */
  pollIntervalMs?: number;
  /**
   * Fs mode: milliseconds between backstop polls (a `data_version` read that catches a missed
   * event) while the database's files are active. Defaults to 250.
   */
  backstopPollMs?: number;
  /**
   * Fs mode: milliseconds between backstop polls once the files have been quiet for 20 polls
   * in a row; the next event on them restores `backstopPollMs`. Defaults to the longer of
   * `backstopPollMs` and 1000. Set it to `backstopPollMs` for a constant cadence.
   */
  idleBackstopPollMs?: number;
}

/** Options shared by `open()` and `fromDriver()`: the watcher's, and the database's own. */
export interface DatabaseOptions extends WatchOptions {
  /**
   * Milliseconds a call you make (enqueue, publish, a transaction …) waits for another
   * process's write lock before it throws a SqliteError with code `"SQLITE_BUSY"`. Defaults to
   * 5000, as honker. Writes honker-ts makes in the background never block this long: they wait
   * at most 20 ms and are retried asynchronously.
   */
  busyTimeoutMs?: number;
  /**
   * Register honker's SQL functions (`honker_enqueue`, `honker_claim_batch`, …) on the
   * connection. Defaults to true; turn off for a connection that also loads honker's extension.
   */
  sqlFunctions?: boolean;
  /**
   * How long finished rows are kept: results, dead jobs, rate-limit windows and notifications
   * (live jobs and stream events are never deleted by it). A maintenance task started at the
   * first wait applies it in small batches, one round per `intervalMs` for the whole file
   * however many processes share it. Omitted fields take `RETENTION_DEFAULT` (results 7 days,
   * dead jobs 7 days, rate-limit windows once past, notifications a day); a field set to null
   * keeps that table's rows forever; `false` turns it all off, as honker. It takes over from
   * `notificationRetention` (`retention: { notificationsS, notificationsMaxKeep }`).
   */
  retention?: RetentionOptions | false;
  /**
   * @deprecated Use `retention: { notificationsS, notificationsMaxKeep }`. Still works: it
   * stands for those two (`olderThanS`, `maxKeep`), applied by the maintenance task from the
   * first wait on rather than at open.
   */
  notificationRetention?: PruneNotificationsOptions;
}

/**
 * @internal Makes a timer of the global `setTimeout`/`setInterval` not keep the process alive
 * (runtime-specific: `platform/timers.ts` has the one `open()` and `fromDriver()` pass).
 */
export type UnrefTimer = (timer: ReturnType<typeof setTimeout>) => void;

/** @internal How `fromDriver` and `open` build a Database. */
export interface DatabaseInit extends DatabaseOptions {
  /** Whether `close()` closes the driver too (true when honker-ts opened it). */
  ownsDriver: boolean;
  /**
   * Keeps the maintenance task's timers from holding the process open; without it, only a timer
   * that is an object with `unref()` (Node, Bun) is unref'd.
   */
  unrefTimer?: UnrefTimer;
  /** Starts the cross-process watcher (from `wake/`); without it only local commits wake. */
  startWatcher?: (waker: Waker, driver: SqliteDriver) => {
    readonly source: Exclude<WakeSource, "local">;
  };
}
