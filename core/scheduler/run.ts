/**
 * The scheduler's leader loop: one leader per file, elected through the
 * `honker-scheduler` lock, hot standbys everywhere else.
 *
 * Exactly-once per boundary does not rest on the lock alone: each tick re-reads `next_fire_at`
 * inside BEGIN IMMEDIATE, so even two leaders overlapping (a process frozen past its lease)
 * cannot fire a boundary twice.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { DatabaseClosedError, isTransientSqliteError } from "../db/errors.ts";
import { releaseLock, renewLock } from "../lock/ops.ts";
import { tryLockInBackground } from "../lock/try_lock.ts";
import type { UnreadableScheduleError } from "./errors.ts";
import { sqlNow } from "./ops.ts";
import { requireCount, requireName, requireOptions } from "../db/validate.ts";
import { retryWhileBusy, waitLoop } from "../wait/wait_loop.ts";

/** The lock every honker scheduler leader holds. */
export const SCHEDULER_LOCK_NAME = "honker-scheduler";
/** Leader lease, as honker. */
export const SCHEDULER_LEASE_DEFAULT_S = 60;
/** A standby retries at least this often (and at once on any commit, such as a release). */
export const STANDBY_RETRY_MS = 5_000;

/** What the leader's loop needs of a scheduler: its next fire time and a background tick. */
export interface TickSource {
  /** Unix seconds of the soonest next fire, or 0 when nothing is scheduled. */
  soonest(): number;
  /** Fires every due boundary as a background write. */
  tickInBackground(onError: ((error: UnreadableScheduleError) => void) | undefined): unknown;
}

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

/** Ticks while `owner` holds the lock; returns when the lock is lost or the signal aborts. */
async function lead(
  scheduler: TickSource,
  ctx: DatabaseContext,
  owner: string,
  leaseS: number,
  signal: AbortSignal | undefined,
  onError: Report,
): Promise<void> {
  const renewEveryMs = (leaseS * 1000) / 3;
  let renewedAt = Date.now();
  let first = true;
  let sleepMs = 0;
  // Every write here is a background write: the wait loop waits out a database another process
  // keeps busy with a jittered backoff, never by stopping the event loop, and never ends on it.
  await waitLoop(ctx.waker, () => {
    if (Date.now() - renewedAt >= renewEveryMs) {
      const renewed = ctx.background(
        "renew the scheduler lease",
        (driver) => renewLock(driver, SCHEDULER_LOCK_NAME, owner, leaseS),
      );
      if (renewed === undefined) return "lost"; // another owner took over after our lease lapsed
      renewedAt = Date.now();
    }
    const soonest = scheduler.soonest();
    // Only take the write lock when something is due (a leader wakes on every commit), and on
    // taking the lead, so that overdue schedules that cannot be read are reported.
    const due = soonest > 0 && soonest <= sqlNow(ctx.open("tick the scheduler"));
    if (first || due) scheduler.tickInBackground(onError);
    first = false;
    const next = scheduler.soonest();
    const untilRenew = renewEveryMs - (Date.now() - renewedAt);
    const untilDue = next > 0 ? next * 1000 - Date.now() : Infinity;
    sleepMs = Math.min(untilRenew, untilDue);
    return undefined;
  }, { signal, sleepMs: () => sleepMs });
}

/** Gives the lease up at once (the release is a commit that wakes every standby). */
async function release(ctx: DatabaseContext, owner: string): Promise<void> {
  if (ctx.waker.closed) return;
  const giveUpAt = Date.now() + 1000; // after that, the lease simply lapses
  try {
    await retryWhileBusy(
      ctx.waker,
      () =>
        ctx.background(
          "release the scheduler lease",
          (driver) => releaseLock(driver, SCHEDULER_LOCK_NAME, owner),
        ),
      { giveUpAt },
    );
    ctx.wrote();
  } catch (error) {
    if (!isTransientSqliteError(error) && !(error instanceof DatabaseClosedError)) throw error;
  }
}

/** Runs leader election and ticking; see `Scheduler.run()`. */
export async function runScheduler(
  scheduler: TickSource,
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
    const lock = await waitLoop(
      ctx.waker,
      () => tryLockInBackground(ctx, SCHEDULER_LOCK_NAME, owner, leaseS) ?? undefined,
      { signal, sleepMs: () => STANDBY_RETRY_MS },
    );
    if (!lock) return;
    try {
      await lead(scheduler, ctx, owner, leaseS, signal, onError);
    } finally {
      await release(ctx, owner);
    }
  }
}
