/**
 * Recognises a file written in a honker format newer than the one honker-ts implements (honker
 * 0.4), so that opening it is refused instead of serving it wrongly.
 *
 * honker's next format (its main branch, not yet published) appends `claimed_at` to
 * `_honker_live`, keeps jobs whose `run_at` is in the future in a `'scheduled'` state, and
 * replaces the `_honker_live_claim` and `_honker_live_pending_deadline` indexes with
 * `_honker_live_ready`, `_honker_live_scheduled` and `_honker_live_expiry`. honker-ts claims
 * only `'pending'` and lapsed `'processing'` rows, so its workers would never see a
 * `'scheduled'` job there: a silent miss. And its bootstrap would add the old indexes back.
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { UnsupportedDatabaseError } from "../db/errors.ts";

/** The columns of `_honker_live` as honker 0.4 creates them. */
const LIVE_COLUMNS_KNOWN: ReadonlySet<string> = new Set([
  "id",
  "queue",
  "payload",
  "state",
  "priority",
  "run_at",
  "worker_id",
  "claim_expires_at",
  "attempts",
  "max_attempts",
  "created_at",
  "expires_at",
]);

/** Indexes on `_honker_live` that only honker's newer format creates. */
const LIVE_INDEXES_NEWER: ReadonlySet<string> = new Set([
  "_honker_live_ready",
  "_honker_live_scheduled",
  "_honker_live_expiry",
]);

/** Column names of `_honker_live`; none when the table does not exist yet. */
export const SCHEMA_LIVE_COLUMNS = "SELECT name FROM pragma_table_info('_honker_live')";

/** Index names on `_honker_live`; none when the table does not exist yet. */
export const SCHEMA_LIVE_INDEXES = "SELECT name FROM pragma_index_list('_honker_live')";

function listed(singular: string, plural: string, names: string[]): string {
  return `${names.length === 1 ? singular : plural} ${names.sort().join(", ")}`;
}

/**
 * Refuses a file whose `_honker_live` a newer honker wrote: a column honker 0.4 does not have,
 * or an index only the newer format creates. Only reads, so it can run before anything is
 * written; a new file (no `_honker_live` yet) passes.
 *
 * @throws {UnsupportedDatabaseError} Naming the columns and indexes it found.
 */
export function checkHonkerFormat(driver: SqliteDriver): void {
  const columns = driver.all<{ name: string }>(SCHEMA_LIVE_COLUMNS)
    .map((row) => row.name)
    .filter((name) => !LIVE_COLUMNS_KNOWN.has(name));
  const indexes = driver.all<{ name: string }>(SCHEMA_LIVE_INDEXES)
    .map((row) => row.name)
    .filter((name) => LIVE_INDEXES_NEWER.has(name));
  if (columns.length === 0 && indexes.length === 0) return;
  const found = [
    ...(columns.length ? [listed("column", "columns", columns)] : []),
    ...(indexes.length ? [listed("index", "indexes", indexes)] : []),
  ];
  throw new UnsupportedDatabaseError(
    `Cannot open ${JSON.stringify(driver.path)}: _honker_live has honker's newer format ` +
      `(${found.join(", ")}); this honker-ts reads honker 0.4 files — upgrade honker-ts`,
  );
}
