/**
 * honker's named-lock and rate-limit SQL functions, over the same operations
 * the TypeScript API uses. Argument order, return values and refusals are honker's: an acquire
 * with a TTL of 0 or less gives an already expired lock, while renew refuses it.
 *
 * @module
 */

import type { SqlFunction, SqliteDriver } from "../db/driver.ts";
import { acquireLock, releaseLock, renewLock } from "./ops.ts";
import { countRateLimited, sweepRateWindows } from "../rate_limit/rate_limit.ts";
import { fail, int, text } from "../db/sql_args.ts";

/** name → [arity, implementation]. */
export function lockFunctions(d: SqliteDriver): Record<string, [number, SqlFunction]> {
  return {
    honker_lock_acquire: [3, (...a) => {
      const f = "honker_lock_acquire";
      const name = text(f, a, 0);
      const owner = text(f, a, 1);
      return acquireLock(d, name, owner, int(f, a, 2))?.owner === owner ? 1 : 0;
    }],
    honker_lock_release: [2, (...a) => {
      const f = "honker_lock_release";
      return releaseLock(d, text(f, a, 0), text(f, a, 1));
    }],
    honker_lock_renew: [3, (...a) => {
      const f = "honker_lock_renew";
      const name = text(f, a, 0);
      const owner = text(f, a, 1);
      const ttlS = int(f, a, 2);
      if (ttlS <= 0) fail(f, "ttl_s must be positive");
      return renewLock(d, name, owner, ttlS) === undefined ? 0 : 1;
    }],
    honker_rate_limit_try: [3, (...a) => {
      const f = "honker_rate_limit_try";
      const name = text(f, a, 0);
      const limit = int(f, a, 1);
      const perS = int(f, a, 2);
      if (limit <= 0 || perS <= 0) fail(f, "limit and per must be positive");
      return countRateLimited(d, name, limit, perS);
    }],
    honker_rate_limit_sweep: [
      1,
      (...a) => sweepRateWindows(d, int("honker_rate_limit_sweep", a, 0)),
    ],
  };
}
