/**
 * Detects commits on the Database's own connection without a second one: `data_version`
 * changes when another connection commits, `total_changes()` when this one writes. Reading both
 * costs one cached statement (a few microseconds).
 *
 * @module
 */

import type { SqliteDriver } from "./driver.ts";

const DATA_VERSION =
  "SELECT (SELECT data_version FROM pragma_data_version) AS dv, total_changes() AS tc";

/** A closure that returns true when something was committed since its previous call. */
export type ChangeProbe = () => boolean;

/** Creates a probe on `driver`, taking the current state as its baseline. */
export function versionProbe(driver: SqliteDriver): ChangeProbe {
  const read = () => {
    const row = driver.get<{ dv: number; tc: number }>(DATA_VERSION);
    return `${row?.dv}:${row?.tc}`;
  };
  let last = read();
  return () => {
    const now = read();
    if (now === last) return false;
    last = now;
    return true;
  };
}
