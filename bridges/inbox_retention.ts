/**
 * The inbox's retention: `_honker_ts_inbox` gets one record per applied message, so records older
 * than a retention are deleted, oldest first, in chunks of at most `INBOX_PRUNE_CHUNK_ROWS`
 * rows, each its own short write with a macrotask between chunks (no long write transaction).
 *
 * A record is what makes a redelivery change nothing: a message delivered again after its record
 * was deleted is applied again. The retention must therefore outlive every way a message comes
 * back — JetStream redelivering one not acknowledged (after `ackWaitMs`, for as long as the
 * consumer keeps trying, across an outage of the inbox), a bridge republishing past JetStream's
 * duplicate window, a consumer replaying the stream. Hence a default of 7 days: far past the
 * ack wait (30 s) and the duplicate window (2 min), and past an inbox outage over a long weekend.
 * The per-source highest offsets (`_honker_ts_inbox_sources`, one row per source) are kept.
 *
 * @module
 */

import type { Database } from "../mod.ts";
import { requireCount, requireOptions, requireSeconds } from "../core/db/validate.ts";
import { ensureInbox } from "./inbox.ts";
import { INBOX_PRUNE_CHUNK } from "./sql.ts";

/** Seconds an inbox keeps the record of an applied message, by default: 7 days. */
export const INBOX_RETENTION_DEFAULT_S = 7 * 86_400;
/** Records one chunk scans, and so at most deletes in one write. */
export const INBOX_PRUNE_CHUNK_ROWS = 1000;

/** Options for `pruneInbox()`. */
export interface PruneInboxOptions {
  /** Records applied more than this many seconds ago go (whole seconds, > 0). */
  olderThanS: number;
  /** Records per chunk, each chunk its own write (default 1000). */
  chunkRows?: number;
}

/**
 * Checks an inbox retention in seconds: a positive whole number, or null (keep forever).
 *
 * @throws {TypeError | RangeError} Naming `what`, before anything is written.
 */
export function requireRetentionS(value: unknown, what: string, action: string): number | null {
  if (value === null) return null;
  if (typeof value === "number" && value <= 0) {
    throw new RangeError(
      `Cannot ${action}: ${what} must be a positive number of seconds or null (to keep the ` +
        `records forever), got ${value}`,
    );
  }
  return requireSeconds(value, what, action);
}

/**
 * Deletes the inbox records applied more than `olderThanS` seconds ago, in short chunks, and
 * resolves with how many went. A message delivered again after its record went is applied again.
 *
 * @example Keep a day of inbox records
 * ```ts ignore
 * const deleted = await pruneInbox(db, { olderThanS: 86_400 });
 * ```
 */
export async function pruneInbox(db: Database, options: PruneInboxOptions): Promise<number> {
  const action = "prune the inbox";
  const opts = requireOptions(options, action, ["olderThanS", "chunkRows"]);
  const olderThanS = requireRetentionS(opts.olderThanS, "olderThanS", action);
  if (olderThanS === null) throw new TypeError(`Cannot ${action}: olderThanS must be a number`);
  const chunk = requireCount(opts.chunkRows ?? INBOX_PRUNE_CHUNK_ROWS, "chunkRows", action);
  ensureInbox(db);
  let deleted = 0;
  while (!db.closed) {
    const changes = db.transaction((tx) => tx.run(INBOX_PRUNE_CHUNK, [chunk, olderThanS]).changes);
    deleted += changes;
    if (changes < chunk) break;
    await new Promise((resolve) => setTimeout(resolve, 0)); // let timers and I/O run
  }
  return deleted;
}
