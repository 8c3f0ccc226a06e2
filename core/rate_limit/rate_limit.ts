/**
 * Fixed-window rate limits: at most `limit` calls per window of `perS` seconds,
 * counted in `_honker_rate_limits` and so shared by every process and binding on the file.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { RATE_LIMIT_SWEEP, RATE_LIMIT_TRY } from "./sql.ts";
import { requireCount, requireName, requireOptions, requireSeconds } from "../db/validate.ts";

/** Options for `tryRateLimit()`: the window, both required. */
export interface RateLimitOptions {
  /** The most calls counted per window: a whole number, at least 1. */
  limit: number;
  /** The window's length in whole seconds, at least 1; windows start at multiples of it. */
  perS: number;
}

/** Options for `sweepRateLimits()`. */
export interface SweepRateLimitsOptions {
  /**
   * Delete windows that started more than this many seconds ago. Required: 0 would also reset
   * the count of every window in use.
   */
  olderThanS: number;
}

/** `honker_rate_limit_try`: 1 when the call was counted in its window, 0 when it was full. */
export function countRateLimited(
  driver: SqliteDriver,
  name: string,
  limit: number,
  perS: number,
): number {
  return driver.run(RATE_LIMIT_TRY, [name, perS, perS, limit]).changes > 0 ? 1 : 0;
}

/** `honker_rate_limit_sweep`: deletes old windows, returns how many. */
export function sweepRateWindows(driver: SqliteDriver, olderThanS: number): number {
  return driver.run(RATE_LIMIT_SWEEP, [olderThanS]).changes;
}

/** Counts a call against a rate limit; see `Database.tryRateLimit()`. */
export function tryRateLimit(
  ctx: DatabaseContext,
  name: string,
  options: RateLimitOptions,
): boolean {
  const action = `check rate limit ${JSON.stringify(name)}`;
  requireName(name, "the rate limit name", action);
  const opts = requireOptions(options, action, ["limit", "perS"]);
  const limit = requireCount(opts.limit, "limit", action);
  const perS = requireCount(opts.perS, "perS", action);
  return countRateLimited(ctx.open(action), name, limit, perS) === 1;
}

/** Deletes old rate-limit windows; see `Database.sweepRateLimits()`. */
export function sweepRateLimits(ctx: DatabaseContext, options: SweepRateLimitsOptions): number {
  const action = "sweep rate limits";
  const opts = requireOptions(options, action, ["olderThanS"]);
  const olderThanS = requireSeconds(opts.olderThanS, "olderThanS", action);
  return sweepRateWindows(ctx.open(action), olderThanS);
}
