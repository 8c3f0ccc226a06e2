/**
 * The scheduler's leader loop (spec §5.5): one leader per file, elected through the
 * `honker-scheduler` lock, hot standbys everywhere else.
 *
 * Exactly-once per boundary does not rest on the lock alone: each tick re-reads `next_fire_at`
 * inside BEGIN IMMEDIATE, so even two leaders overlapping (a process frozen past its lease)
 * cannot fire a boundary twice.
 *
 * @module
 */

import type { DatabaseContext } from "./_context.ts";
import { SLEEP_CAP_MS } from "./claim.ts";
import { WatcherDiedError } from "./errors.ts";
import { releaseLock, renewLock, tryLock } from "./lock.ts";
import type { Scheduler } from "./scheduler.ts";
import type { UnreadableScheduleError } from "./scheduler_errors.ts";
import { sqlNow } from "./scheduler_ops.ts";
import { requireCount, requireName, requireOptions } from "./validate.ts";

/** The lock every honker scheduler leader holds. */
export const SCHEDULER_LOCK_NAME = "honker-scheduler";
/** Leader lease, as honker. */
export const SCHEDULER_LEASE_DEFAULT_S = 60;
/** A standby retries at least this often (and at once on any commit, such as a release). */
export const STANDBY_RETRY_MS = 5_000;

/** Options for `scheduler.run()`. */
export interface SchedulerRunOptions {
  /** Who leads; defaults to a random id. */
  owner?: string;
  /** Stops the loop; a leader releases the lock at once. */
  signal?: AbortSignal;
  /** Seconds the leader's lease lasts (renewed at a third of it). Defaults to 60. */
  leaseS?: number;
  /**
   * Told once per schedule (name and expression) that honker-ts cannot read, when a tick meets
   * it overdue; the other schedules keep firing. Defaults to `console.error`.
   */
  onError?: (error: UnreadableScheduleError) => void;
}

type Report = (error: UnreadableScheduleError) => void;

/** `onError` (or console.error) once per schedule name and expression. */
function reportOnce(onError: Report | undefined, action: string): Report {
  if (onError !== undefined && typeof onError !== "function") {
    throw new TypeError(`Cannot ${action}: onError must be a function`);
  }
  const seen = new Set<string>();
  return (error) => {
    const key = JSON.stringify([error.taskName, error.schedule]);
    if (seen.has(key)) return;
    seen.add(key);
    (onError ?? console.error)(error);
  };
}

async function sleep(
  ctx: DatabaseContext,
  ms: number,
  signal: AbortSignal | undefined,
  since: number,
): Promise<void> {
  try {
    await ctx.waker.wait({ timeoutMs: Math.min(Math.max(0, ms), SLEEP_CAP_MS), signal, since });
  } catch (error) {
    if (!(error instanceof WatcherDiedError)) throw error;
  }
}

/** Ticks while `owner` holds the lock; returns when the lock is lost or the signal aborts. */
async function lead(
  scheduler: Scheduler,
  ctx: DatabaseContext,
  owner: string,
  leaseS: number,
  signal: AbortSignal | undefined,
  onError: Report,
): Promise<void> {
  const renewEveryMs = (leaseS * 1000) / 3;
  let renewedAt = Date.now();
  let first = true;
  while (!signal?.aborted && !ctx.waker.closed) {
    if (Date.now() - renewedAt >= renewEveryMs) {
      if (
        renewLock(ctx.open("renew the scheduler lease"), SCHEDULER_LOCK_NAME, owner, leaseS) ===
          undefined
      ) {
        return; // Lost: another owner took over after our lease lapsed.
      }
      renewedAt = Date.now();
    }
    const since = ctx.waker.seq;
    const driver = ctx.open("tick the scheduler");
    const soonest = scheduler.soonest();
    // Only take the write lock when something is due (a leader wakes on every commit), and on
    // taking the lead, so that overdue schedules that cannot be read are reported.
    if (first || (soonest > 0 && soonest <= sqlNow(driver))) scheduler.tick(undefined, { onError });
    first = false;
    const next = scheduler.soonest();
    const untilRenew = renewEveryMs - (Date.now() - renewedAt);
    const untilDue = next > 0 ? next * 1000 - Date.now() : Infinity;
    await sleep(ctx, Math.min(untilRenew, untilDue), signal, since);
  }
}

/** Runs leader election and ticking; see `Scheduler.run()`. */
export async function runScheduler(
  scheduler: Scheduler,
  ctx: DatabaseContext,
  options?: SchedulerRunOptions,
): Promise<void> {
  const action = "run the scheduler";
  ctx.open(action);
  const opts = requireOptions(options, action, ["owner", "signal", "leaseS", "onError"]);
  const owner = requireName(opts.owner ?? `scheduler-${crypto.randomUUID()}`, "owner", action);
  const leaseS = requireCount(opts.leaseS ?? SCHEDULER_LEASE_DEFAULT_S, "leaseS", action);
  const onError = reportOnce(opts.onError, action);
  const { signal } = opts;
  while (!signal?.aborted && !ctx.waker.closed) {
    const since = ctx.waker.seq;
    const lock = tryLock(ctx, SCHEDULER_LOCK_NAME, owner, leaseS);
    if (!lock) {
      await sleep(ctx, STANDBY_RETRY_MS, signal, since);
      continue;
    }
    try {
      await lead(scheduler, ctx, owner, leaseS, signal, onError);
    } finally {
      // Hand over at once: the release is a commit, which wakes every standby.
      if (!ctx.waker.closed) {
        releaseLock(ctx.open(action), SCHEDULER_LOCK_NAME, owner);
        ctx.wrote();
      }
    }
  }
}
