/**
 * A job's row, and a claim's rows made from arrays of cells (read so where the driver can). The
 * claim is work()'s hottest read: node:sqlite builds each row as a null-prototype object, key by
 * key, which costs Deno and Node about 1.4 µs a row (90 µs for a claim of 64) against 0.6 µs for
 * the arrays and an object literal of one fixed shape, whose fields also read faster after.
 *
 * @module
 */

import type { SqlValue } from "../db/driver.ts";

/** A `_honker_live` row as stored. */
export interface JobRow {
  [column: string]: string | number | null;
  id: number;
  queue: string;
  payload: string;
  state: string;
  priority: number;
  run_at: number;
  worker_id: string | null;
  claim_expires_at: number | null;
  attempts: number;
  max_attempts: number;
  created_at: number;
  expires_at: number | null;
}

/** A claimed row's cells, in `JOB_COLUMNS` order, then the run options when the claim asked. */
type ClaimedCells = readonly SqlValue[];

/** The row of `cells`, a claim's `RETURNING JOB_COLUMNS`. */
function jobRowOf(cells: ClaimedCells): JobRow {
  return {
    id: cells[0] as number,
    queue: cells[1] as string,
    payload: cells[2] as string,
    state: cells[3] as string,
    priority: cells[4] as number,
    run_at: cells[5] as number,
    worker_id: cells[6] as string | null,
    claim_expires_at: cells[7] as number | null,
    attempts: cells[8] as number,
    max_attempts: cells[9] as number,
    created_at: cells[10] as number,
    expires_at: cells[11] as number | null,
  };
}

/** The row of `cells`, a claim's `RETURNING JOB_COLUMNS` and the job's own run options. */
function jobRowWithRunOptionsOf(cells: ClaimedCells): JobRow {
  // Added in the same order to every row: they all keep one shape.
  const row = jobRowOf(cells);
  row.run_timeout_s = cells[12] as number | null;
  row.run_backoff = cells[13] as string | null;
  return row;
}

/** Rows from a claim's arrays of cells; `withRunOptions` as the claim's SQL was chosen. */
export function claimedRowsOf(
  cells: readonly ClaimedCells[],
  withRunOptions: boolean,
): JobRow[] {
  return cells.map(withRunOptions ? jobRowWithRunOptionsOf : jobRowOf);
}
