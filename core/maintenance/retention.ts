/**
 * Retention: how long honker-ts keeps the rows of honker's tables that only ever grow (results,
 * dead jobs, rate-limit windows, notifications), configured in one place, `open(path,
 * { retention })`, and applied by the maintenance task (`maintenance.ts`). Live jobs, stream
 * events and consumer offsets are never deleted by retention.
 *
 * @module
 */

import { pruneRules } from "../notify/notify.ts";
import type { PruneNotificationsOptions } from "../notify/notify.ts";
import { requireInteger, requireOptions, requireSeconds } from "../db/validate.ts";

/**
 * How long rows are kept, in seconds; `null` keeps a table's rows forever (and leaves the table
 * alone). Omitted fields take their default from `RETENTION_DEFAULT`.
 */
export interface RetentionOptions {
  /**
   * The TTL `saveResult()` gives a result when called without `ttlS`; maintenance deletes
   * expired results (whatever their TTL). Defaults to 7 days. With null, such a result never
   * expires (honker's default) and expired results are left for `sweepResults()`.
   */
  resultsS?: number | null;
  /** Dead jobs are deleted this long after they died. Defaults to 7 days. */
  deadS?: number | null;
  /**
   * A rate-limit window is deleted once a newer window of its name exists (it is past), or this
   * long after it started. Defaults to 31 days, the longest `perS` this keeps exact: a window
   * longer than rateLimitsS would be deleted, and its count reset, while a name sits idle.
   */
  rateLimitsS?: number | null;
  /**
   * Notifications are deleted this long after they were sent. Defaults to a day. A listener
   * lagging further behind than this misses what was deleted.
   */
  notificationsS?: number | null;
  /**
   * Keep at most this many notifications, the newest (0 keeps none); a notification goes when
   * either rule says so, as in `pruneNotifications()`. Defaults to null: no count limit.
   */
  notificationsMaxKeep?: number | null;
  /**
   * Job events (`queue.events()`) are deleted this long after they were recorded. Defaults to a
   * day. A consumer resuming from an offset older than this misses what was deleted.
   */
  jobEventsS?: number | null;
  /**
   * Milliseconds between maintenance rounds, at least 1000, rounded up to whole seconds: a
   * round is elected through a lock held for the interval on SQLite's whole-second clock, so
   * the file gets one round per interval however many processes share it. Defaults to 60000.
   */
  intervalMs?: number;
}

/** What a Database applies: every field resolved, `enabled` false for `retention: false`. */
export interface RetentionPolicy {
  /** Whether a maintenance task runs at all. */
  readonly enabled: boolean;
  /** Default TTL of a result saved without `ttlS`, or null (never expires). */
  readonly resultsS: number | null;
  /** Age at which dead jobs go, or null. */
  readonly deadS: number | null;
  /** Age at which rate-limit windows go (replaced ones go at once), or null. */
  readonly rateLimitsS: number | null;
  /** Age at which notifications go, or null. */
  readonly notificationsS: number | null;
  /** How many of the newest notifications are kept at most, or null. */
  readonly notificationsMaxKeep: number | null;
  /** Age at which job events go, or null. */
  readonly jobEventsS: number | null;
  /** Milliseconds between rounds, whole seconds' worth (the maintenance lock's TTL). */
  readonly intervalMs: number;
}

/**
 * The default retention, chosen as the job queues honker-ts is compared with choose theirs:
 * pg-boss deletes finished jobs after 7 days, River's job cleaner discarded ones after 7 days,
 * BullMQ keeps failed jobs until told otherwise. A result nobody fetched within 7 days is
 * garbage; a notification is for listeners that are running now.
 */
export const RETENTION_DEFAULT: Readonly<Required<RetentionOptions>> = Object.freeze({
  resultsS: 7 * 86_400,
  deadS: 7 * 86_400,
  rateLimitsS: 31 * 86_400,
  notificationsS: 86_400,
  notificationsMaxKeep: null,
  jobEventsS: 86_400,
  intervalMs: 60_000,
});

/** The shortest interval between rounds: the maintenance lock's TTL is whole seconds. */
const INTERVAL_MIN_MS = 1000;
/** The longest interval between rounds: what a timer can wait (2^31 − 1 ms), in whole seconds. */
const INTERVAL_MAX_MS = 2_147_483_000;

const ACTION = "open the database";
const TABLE_FIELDS = ["resultsS", "deadS", "rateLimitsS", "notificationsS", "jobEventsS"] as const;
const FIELDS: readonly (keyof RetentionOptions)[] = [
  ...TABLE_FIELDS,
  "notificationsMaxKeep",
  "intervalMs",
];

const OFF: RetentionPolicy = {
  enabled: false,
  resultsS: null,
  deadS: null,
  rateLimitsS: null,
  notificationsS: null,
  notificationsMaxKeep: null,
  jobEventsS: null,
  intervalMs: RETENTION_DEFAULT.intervalMs,
};

/** A table's retention: undefined takes the default, null is off, else positive whole seconds. */
function requireKeepS(value: unknown, field: (typeof TABLE_FIELDS)[number]): number | null {
  if (value === undefined) return RETENTION_DEFAULT[field];
  if (value === null) return null;
  const what = `retention.${field}`;
  if (typeof value === "number" && value <= 0) {
    throw new RangeError(
      `Cannot ${ACTION}: ${what} must be a positive number of seconds or null (to keep the ` +
        `rows forever), got ${value}`,
    );
  }
  return requireSeconds(value, what, ACTION);
}

/** The interval between rounds: whole milliseconds from 1000 on, rounded up to whole seconds. */
function requireIntervalMs(value: unknown): number {
  if (value === undefined) return RETENTION_DEFAULT.intervalMs;
  const what = "retention.intervalMs";
  const ms = requireInteger(value, what, ACTION);
  if (ms < INTERVAL_MIN_MS || ms > INTERVAL_MAX_MS) {
    throw new RangeError(
      `Cannot ${ACTION}: ${what} must be between ${INTERVAL_MIN_MS} and ${INTERVAL_MAX_MS} ` +
        `milliseconds, got ${ms}`,
    );
  }
  return Math.ceil(ms / 1000) * 1000;
}

/** Checks `retention` (undefined: the defaults, false: off) and resolves it. */
function retentionPolicy(value: unknown): RetentionPolicy {
  if (value === false) return OFF;
  if (value !== undefined && (value === null || typeof value !== "object")) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new TypeError(`Cannot ${ACTION}: retention must be an object or false, got ${shown}`);
  }
  const opts = requireOptions(
    value as RetentionOptions | undefined,
    `${ACTION} (retention)`,
    FIELDS,
  );
  const intervalMs = requireIntervalMs(opts.intervalMs);
  const maxKeep = opts.notificationsMaxKeep;
  return {
    enabled: true,
    resultsS: requireKeepS(opts.resultsS, "resultsS"),
    deadS: requireKeepS(opts.deadS, "deadS"),
    rateLimitsS: requireKeepS(opts.rateLimitsS, "rateLimitsS"),
    notificationsS: requireKeepS(opts.notificationsS, "notificationsS"),
    jobEventsS: requireKeepS(opts.jobEventsS, "jobEventsS"),
    notificationsMaxKeep: maxKeep === undefined || maxKeep === null
      ? null
      : requireInteger(maxKeep, "retention.notificationsMaxKeep", ACTION, 0),
    intervalMs,
  };
}

/**
 * Folds the deprecated `notificationRetention: { olderThanS, maxKeep }` into the policy: it
 * stands for `notificationsS` and `notificationsMaxKeep` (each null when not given, as it never
 * had defaults), and turns maintenance on for notifications even with `retention: false`.
 */
function withLegacyNotifications(
  policy: RetentionPolicy,
  retention: unknown,
  legacy: PruneNotificationsOptions,
): RetentionPolicy {
  const given = retention !== null && typeof retention === "object" &&
    ("notificationsS" in retention || "notificationsMaxKeep" in retention);
  if (given) {
    throw new TypeError(
      `Cannot ${ACTION}: give retention.notificationsS / notificationsMaxKeep or the deprecated ` +
        "notificationRetention, not both",
    );
  }
  const rules = pruneRules(legacy, `${ACTION} (notificationRetention)`);
  return {
    ...policy,
    enabled: true,
    notificationsS: rules.olderThanS,
    notificationsMaxKeep: rules.maxKeep,
  };
}

/**
 * Checks the `retention` option (and the deprecated `notificationRetention`) and resolves it:
 * undefined gives the defaults, false turns maintenance off and gives results no default TTL.
 *
 * @throws {TypeError | RangeError} Naming the field that is wrong, before anything is written.
 */
export function requireRetention(
  retention: unknown,
  notificationRetention?: PruneNotificationsOptions,
): RetentionPolicy {
  const policy = retentionPolicy(retention);
  if (notificationRetention === undefined) return policy;
  return withLegacyNotifications(policy, retention, notificationRetention);
}
