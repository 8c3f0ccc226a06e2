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

/**
 * What changed since the previous look: `"other"` (another connection committed), `"own"` (only
 * this connection wrote; its API writes already woke local waiters) or `"none"`.
 */
export type ChangeKind = "other" | "own" | "none";

/** A closure reporting what changed since its previous call. */
export type ChangeProbe = () => ChangeKind;

/** Creates a probe on `driver`, taking the current state as its baseline. */
export function versionProbe(driver: SqliteDriver): ChangeProbe {
  const read = () => driver.get<{ dv: number; tc: number }>(DATA_VERSION);
  let last = read();
  return () => {
    const now = read();
    const kind: ChangeKind = now?.dv !== last?.dv ? "other" : now?.tc !== last?.tc ? "own" : "none";
    last = now;
    return kind;
  };
}

/**
 * Asks `probe`, counting a failure (a busy or closing connection) as another connection's
 * commit: a spurious wake is cheap, a lost one is not.
 */
export function probeOrAssumeOther(probe: ChangeProbe): ChangeKind {
  try {
    return probe();
  } catch {
    return "other";
  }
}
