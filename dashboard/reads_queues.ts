/**
 * The queues' counts and rates, for the overview and the queue page: live counts are index
 * ranges, dead letters are counted exactly up to DEAD_SAMPLE and estimated above, and rates
 * come from the job events when a queue records them.
 *
 * @module
 */

import * as SQL from "./sql.ts";
import { count, skipScan } from "./reads.ts";
import type { Snapshot } from "./reads.ts";
import { eventOutcomes, queueSettings } from "./reads_events.ts";
import type { EventOutcomes } from "./reads_events.ts";

/** Seconds of history behind throughput and failure counts. */
export const RATE_WINDOW_S = 300;
/**
 * Above this many dead letters the overview's per-queue dead counts are estimated from the
 * newest ones (honker has no index on the dead letters' queue: grouping them all reads them all).
 */
export const DEAD_SAMPLE = 50_000;

type Row = Record<string, string | number | null>;

/** One queue on the overview. */
export interface QueueSummary {
  name: string;
  pending: number;
  scheduled: number;
  processing: number;
  dead: number;
  /** Seconds the longest-waiting due job has been due; null when none is. */
  oldestPendingAgeS: number | null;
  paused: boolean;
  /**
   * Jobs completed per minute over the last RATE_WINDOW_S, from the job events; null when the
   * queue does not record events.
   */
  completedPerMin: number | null;
  /** Jobs that died in the last RATE_WINDOW_S (from the events when the queue records them). */
  deadRecent: number;
  /** Attempts that failed in the last RATE_WINDOW_S; null without events. */
  failedRecent: number | null;
  /** True when the rates come from part of the window (too many events to read them all). */
  ratesEstimated: boolean;
  /** True when `dead` and `deadRecent` are estimates (more than DEAD_SAMPLE dead letters). */
  deadEstimated: boolean;
}

/** Counts of one queue's live jobs, each an index range. */
function liveCounts(
  snap: Snapshot,
  queue: string,
): Pick<QueueSummary, "pending" | "scheduled" | "processing" | "oldestPendingAgeS"> {
  const { driver, now } = snap;
  const pending = count(driver, SQL.QUEUE_PENDING_COUNT, [queue, now]);
  return {
    pending: Number(pending.n ?? 0),
    oldestPendingAgeS: pending.oldest === null || pending.oldest === undefined
      ? null
      : now - Number(pending.oldest),
    scheduled: Number(count(driver, SQL.QUEUE_SCHEDULED_COUNT, [queue, now]).n ?? 0),
    processing: Number(count(driver, SQL.QUEUE_PROCESSING_COUNT, [queue]).n ?? 0),
  };
}

/**
 * Dead letters per queue: exact up to DEAD_SAMPLE in all; above, the newest DEAD_SAMPLE ids'
 * split by queue, scaled to the total (a b-tree count).
 */
function deadCounts(snap: Snapshot): { dead: Map<string, Row>; estimated: boolean } {
  const dead = new Map<string, Row>();
  const { driver, tables, now } = snap;
  if (!tables.has("_honker_dead")) return { dead, estimated: false };
  const capped = Number(count(driver, SQL.DEAD_TOTAL_CAPPED, [DEAD_SAMPLE + 1]).n ?? 0);
  if (capped <= DEAD_SAMPLE) {
    for (const row of driver.all<Row>(SQL.DEAD_COUNTS, [now - RATE_WINDOW_S])) {
      dead.set(String(row.queue), row);
    }
    return { dead, estimated: false };
  }
  const scale = Number(count(driver, SQL.DEAD_TOTAL, []).n ?? 0) / DEAD_SAMPLE;
  for (const row of driver.all<Row>(SQL.DEAD_COUNTS_SAMPLE, [now - RATE_WINDOW_S, DEAD_SAMPLE])) {
    dead.set(String(row.queue), {
      dead: Math.round(Number(row.dead) * scale),
      recent: Math.round(Number(row.recent) * scale),
    });
  }
  return { dead, estimated: true };
}

/** A queue's rates from the events when it records them, else its dead letters' deaths. */
function rates(
  name: string,
  events: boolean,
  outcomes: EventOutcomes | null,
  deadRecent: number,
): Pick<QueueSummary, "completedPerMin" | "deadRecent" | "failedRecent" | "ratesEstimated"> {
  if (!events || outcomes === null) {
    return { completedPerMin: null, deadRecent, failedRecent: null, ratesEstimated: false };
  }
  const counts = outcomes.byQueue.get(name) ?? { completed: 0, dead: 0, failed: 0 };
  const scale = RATE_WINDOW_S / outcomes.coveredS;
  return {
    completedPerMin: (counts.completed / outcomes.coveredS) * 60,
    deadRecent: Math.round(counts.dead * scale),
    failedRecent: Math.round(counts.failed * scale),
    ratesEstimated: outcomes.estimated,
  };
}

/**
 * Every queue (with live jobs, dead jobs or a settings row) and its counts, by name; with
 * `rates`, also throughput and failures from the job events.
 */
export function queueSummaries(snap: Snapshot, options: { rates: boolean }): QueueSummary[] {
  const { driver, tables } = snap;
  const names = new Set(
    tables.has("_honker_live") ? skipScan(driver, SQL.LIVE_QUEUE_NEXT, "queue") : [],
  );
  const { dead, estimated } = deadCounts(snap);
  for (const name of dead.keys()) names.add(name);
  const settings = queueSettings(snap);
  for (const name of settings.keys()) names.add(name);
  const outcomes = options.rates && [...settings.values()].some((s) => s.events)
    ? eventOutcomes(snap, RATE_WINDOW_S)
    : null;
  return [...names].sort().map((name) => ({
    name,
    ...(tables.has("_honker_live")
      ? liveCounts(snap, name)
      : { pending: 0, scheduled: 0, processing: 0, oldestPendingAgeS: null }),
    dead: Number(dead.get(name)?.dead ?? 0),
    deadEstimated: estimated,
    paused: settings.get(name)?.paused ?? false,
    ...rates(
      name,
      settings.get(name)?.events ?? false,
      outcomes,
      Number(dead.get(name)?.recent ?? 0),
    ),
  }));
}

/**
 * One queue's counts (zeros for a queue the file has never seen), reading that queue only; its
 * rates are left out (null), as the queue page does not show them.
 */
export function queueSummary(snap: Snapshot, name: string): QueueSummary {
  const { driver, tables, now } = snap;
  const dead = tables.has("_honker_dead")
    ? count(driver, SQL.DEAD_COUNT_OF, [now - RATE_WINDOW_S, name])
    : {};
  const setting = queueSettings(snap).get(name);
  return {
    name,
    ...(tables.has("_honker_live")
      ? liveCounts(snap, name)
      : { pending: 0, scheduled: 0, processing: 0, oldestPendingAgeS: null }),
    dead: Number(dead.dead ?? 0),
    deadEstimated: false,
    paused: setting?.paused ?? false,
    ...rates(name, false, null, Number(dead.recent ?? 0)),
  };
}
