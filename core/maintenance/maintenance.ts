/**
 * The maintenance task: applies the retention (`retention.ts`) to a file, once per interval for
 * the whole file however many processes share it. It starts at a Database's first wait, as the
 * watcher does, so a Database that only writes (a CLI command, a producer) starts no timer;
 * such a program can call `db.runMaintenance()` itself.
 *
 * Each round is elected through honker's lock table: the process that takes the lock
 * `honker-ts:maintenance` runs the round and keeps the lock for the interval, so the others find
 * it held and skip. The work is done in chunks of MAINTENANCE_BATCH rows (`sql.ts`),
 * each its own short write through `ctx.background()`, with a pause between chunks so timers and
 * I/O run. A busy database (SQLITE_BUSY after the background busy timeout), a closed one or any
 * other error ends the round quietly: the next round goes on. Nothing here throws into the
 * application.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver, SqlValue } from "../db/driver.ts";
import { LOCK_DELETE_EXPIRED, LOCK_GET_LIVE, LOCK_INSERT } from "../lock/sql.ts";
import {
  DEAD_CHUNK_DELETE,
  DEAD_CHUNK_SCAN,
  MAINTENANCE_LOCK,
  NOTIFICATION_CHUNK_DELETE,
  NOTIFICATION_CHUNK_SCAN,
  NOTIFICATION_KEEP_CUTOFF,
  RATE_LIMIT_CHUNK_DELETE,
  RATE_LIMIT_CHUNK_SCAN,
  RESULT_CHUNK_DELETE,
  RESULT_CHUNK_SCAN,
} from "./sql.ts";
import type { RetentionPolicy } from "./retention.ts";
import type { UnrefTimer } from "../database_options.ts";
import { JOB_EVENT_CHUNK_DELETE, JOB_EVENT_CHUNK_SCAN } from "../queue/events_sql.ts";
import { sweepAllJobKeys } from "../queue/job_keys.ts";

/** Rows one chunk scans, and so at most deletes in one short write. */
export const MAINTENANCE_BATCH = 1000;

/**
 * Chunks a background round scans per table (100,000 rows); the next round goes on from where
 * this one stopped, so a large table is covered over several rounds, never in one long burst.
 */
export const MAINTENANCE_CHUNKS_PER_ROUND = 100;

/**
 * Added to the interval between a process's rounds: honker's locks expire on whole seconds, so
 * this makes sure a process's own lock from its last round has expired when it looks again.
 */
const TICK_MARGIN_MS = 50;

const ACTION = "run maintenance";

/** How many rows one maintenance pass deleted, per table. */
export interface MaintenanceCounts {
  /** Expired results. */
  results: number;
  /** Dead jobs past their retention. */
  dead: number;
  /** Past rate-limit windows. */
  rateLimits: number;
  /** Notifications past their retention. */
  notifications: number;
  /** Job events past their retention. */
  jobEvents: number;
}

/** One table's sweep: its chunk statements and, from the policy, their extra parameters. */
interface Sweep {
  table: keyof MaintenanceCounts;
  scan: string;
  delete: string;
  /**
   * The rules' parameters, read once per pass over the table: they come before (after, limit)
   * in a scan and after (after, upTo) in a delete, where each text has them. Null when the
   * table's retention is off.
   */
  params(policy: RetentionPolicy, driver: SqliteDriver): SqlValue[] | null;
}

const keep = (seconds: number | null): SqlValue[] | null => seconds === null ? null : [seconds];

/** The notifications' rules: keepS (or null) and the count rule's cutoff id (or -1). */
function notificationParams(policy: RetentionPolicy, driver: SqliteDriver): SqlValue[] | null {
  const { notificationsS, notificationsMaxKeep } = policy;
  if (notificationsS === null && notificationsMaxKeep === null) return null;
  const cutoff = notificationsMaxKeep === null
    ? -1
    : driver.get<{ id: number }>(NOTIFICATION_KEEP_CUTOFF, [notificationsMaxKeep])?.id ?? -1;
  return [notificationsS, cutoff];
}

const SWEEPS: readonly Sweep[] = [
  {
    table: "results",
    scan: RESULT_CHUNK_SCAN,
    delete: RESULT_CHUNK_DELETE,
    params: (policy) => policy.resultsS === null ? null : [],
  },
  {
    table: "dead",
    scan: DEAD_CHUNK_SCAN,
    delete: DEAD_CHUNK_DELETE,
    params: (policy) => keep(policy.deadS),
  },
  {
    table: "rateLimits",
    scan: RATE_LIMIT_CHUNK_SCAN,
    delete: RATE_LIMIT_CHUNK_DELETE,
    params: (policy) => keep(policy.rateLimitsS),
  },
  {
    table: "notifications",
    scan: NOTIFICATION_CHUNK_SCAN,
    delete: NOTIFICATION_CHUNK_DELETE,
    params: notificationParams,
  },
  {
    table: "jobEvents",
    scan: JOB_EVENT_CHUNK_SCAN,
    delete: JOB_EVENT_CHUNK_DELETE,
    params: (policy) => keep(policy.jobEventsS),
  },
];

/**
 * Sweeps the chunk of `sweep`'s table after key `after`: a read, then (only when it found
 * garbage) one delete within the chunk's key range. `last` is null past the end of the table.
 */
function sweepChunk(
  driver: SqliteDriver,
  sweep: Sweep,
  after: number,
  params: SqlValue[],
): { last: number | null; deleted: number } {
  const chunk = driver.get<{ last: number | null; garbage: number }>(
    sweep.scan,
    [...params, after, MAINTENANCE_BATCH],
  );
  const last = chunk?.last ?? null;
  if (last === null || !(Number(chunk?.garbage) > 0)) return { last, deleted: 0 };
  return { last, deleted: driver.run(sweep.delete, [after, last, ...params]).changes };
}

/**
 * One full pass now, on the caller's behalf (the database's busy timeout, errors thrown): every
 * table with a retention, chunk by chunk, each chunk its own short write. See
 * `Database.runMaintenance()`.
 */
export function runMaintenance(ctx: DatabaseContext, policy: RetentionPolicy): MaintenanceCounts {
  const counts: MaintenanceCounts = {
    results: 0,
    dead: 0,
    rateLimits: 0,
    notifications: 0,
    jobEvents: 0,
  };
  for (const sweep of SWEEPS) {
    const params = sweep.params(policy, ctx.open(ACTION));
    if (params === null) continue;
    for (let after = 0;;) {
      const { last, deleted } = sweepChunk(ctx.open(ACTION), sweep, after, params);
      counts[sweep.table] += deleted;
      if (last === null) break;
      after = last;
    }
  }
  // Stale unique-key rows (not counted): chunk by chunk until a chunk finds fewer.
  for (let deleted = MAINTENANCE_BATCH; deleted === MAINTENANCE_BATCH;) {
    deleted = sweepAllJobKeys(ctx.open(ACTION), MAINTENANCE_BATCH);
  }
  return counts;
}

/**
 * Takes the maintenance lock for `ttlS` seconds if nobody holds it; true when this call took it
 * (a lock already held, by us or anyone, means this interval's round is done or under way).
 * A live lock is only read, so processes that lose do not queue for SQLite's write lock.
 */
function elect(driver: SqliteDriver, ctx: DatabaseContext, owner: string, ttlS: number): boolean {
  if (driver.get(LOCK_GET_LIVE, [MAINTENANCE_LOCK])) return false;
  return ctx.transactions.atomic(() => {
    driver.run(LOCK_DELETE_EXPIRED, [MAINTENANCE_LOCK]);
    return driver.run(LOCK_INSERT, [MAINTENANCE_LOCK, owner, ttlS]).changes > 0;
  });
}

/** A macrotask's pause between chunks, so the application's timers and I/O run. */
function pause(unref: UnrefTimer): Promise<void> {
  return new Promise((resolve) => unref(setTimeout(resolve, 0)));
}

/** One background round: elect, then sweep each table from its cursor for a bounded number of chunks. */
async function backgroundRound(
  ctx: DatabaseContext,
  policy: RetentionPolicy,
  owner: string,
  cursors: Map<string, number>,
  unref: UnrefTimer,
): Promise<void> {
  try {
    const ttlS = policy.intervalMs / 1000; // whole seconds: `requireRetention` rounds it up
    if (!ctx.background(ACTION, (driver) => elect(driver, ctx, owner, ttlS))) return;
    for (const sweep of SWEEPS) {
      const params = ctx.background(ACTION, (driver) => sweep.params(policy, driver));
      if (params === null) continue;
      for (let chunk = 0; chunk < MAINTENANCE_CHUNKS_PER_ROUND; chunk++) {
        const after = cursors.get(sweep.table) ?? 0;
        const { last } = ctx.background(
          ACTION,
          (driver) => sweepChunk(driver, sweep, after, params),
        );
        cursors.set(sweep.table, last ?? 0);
        if (last === null) break;
        await pause(unref);
      }
    }
    // Stale unique-key rows: a bounded number of chunks, each one short write.
    for (let chunk = 0; chunk < MAINTENANCE_CHUNKS_PER_ROUND; chunk++) {
      const deleted = ctx.background(
        ACTION,
        (driver) => sweepAllJobKeys(driver, MAINTENANCE_BATCH),
      );
      if (deleted < MAINTENANCE_BATCH) break;
      await pause(unref);
    }
  } catch {
    // Busy (a transient SqliteError), closed, or anything else: the round ends here and the
    // next one goes on from the cursors. Nothing may throw into the application.
  }
}

/**
 * Starts the maintenance task of one Database: a round every `policy.intervalMs` (the
 * first one interval after the start), on a timer `unref` keeps from holding the process open.
 * Returns the function that stops it (the Database's close).
 */
export function startMaintenance(
  ctx: DatabaseContext,
  policy: RetentionPolicy,
  unref: UnrefTimer,
): () => void {
  const owner = crypto.randomUUID();
  const cursors = new Map<string, number>();
  let running = false;
  const tick = () => {
    if (running || ctx.waker.closed) return;
    running = true;
    void backgroundRound(ctx, policy, owner, cursors, unref).finally(() => (running = false));
  };
  const timer = setInterval(tick, policy.intervalMs + TICK_MARGIN_MS);
  unref(timer);
  return () => clearInterval(timer);
}
