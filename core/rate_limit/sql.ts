/**
 * Rate-limit SQL: honker's fixed windows, one row per (name, window_start).
 *
 * @module
 */

/**
 * Counts one call in the current window, `(unixepoch() / perS) * perS` (integer division): a new
 * window starts at 1; an existing one goes up only while below `limit`, so a refused call
 * changes nothing and `changes` is 0. The limit given on each call is the one applied.
 * Params: name, perS, perS, limit.
 */
export const RATE_LIMIT_TRY = `INSERT INTO _honker_rate_limits (name, window_start, count)
  VALUES (?, (unixepoch() / ?) * ?, 1)
  ON CONFLICT(name, window_start) DO UPDATE SET count = count + 1
  WHERE count < ?`;

/**
 * Deletes windows that started more than `olderThanS` seconds ago. As in honker, nothing spares
 * a current window: with 0, any window that started before this second goes, resetting its
 * count. Params: olderThanS.
 */
export const RATE_LIMIT_SWEEP = `DELETE FROM _honker_rate_limits
  WHERE window_start < unixepoch() - ?`;
