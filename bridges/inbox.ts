/**
 * The inbox: applies a message from another system to the file exactly once. The record that a
 * message was applied (`_honker_ts_inbox`, keyed by its id) is written in the same transaction as
 * the message's effect, so a message delivered again — a redelivery, a lost acknowledgement, a
 * crash between commit and acknowledgement — finds its record and changes nothing.
 *
 * @module
 */

import type { Database, Transaction } from "../mod.ts";
import { INBOX_CREATE, INBOX_RECORD, INBOX_SOURCE_SAVE, INBOX_SOURCES } from "./sql.ts";

/** What identifies an incoming message. */
export interface InboxKey {
  /** The message's id, unique across every source (a bridge's `<file id>:<topic>:<offset>`). */
  readonly id: string;
  /** Where it comes from (a bridge's `<file id>:<topic>`). */
  readonly source: string;
  /** Its offset in its source, or null when it has none. */
  readonly offset: number | null;
}

/** One source an inbox has applied messages from. */
export interface InboxSource {
  /** The source, `<file id>:<topic>` for a bridge. */
  source: string;
  /** The highest offset applied from it. */
  offset: number;
  /** How many of its messages were applied. */
  applied: number;
}

/** Creates the inbox tables if the file has none yet. */
export function ensureInbox(db: Database): void {
  db.transaction((tx) => tx.exec(INBOX_CREATE));
}

/**
 * Records `key` as applied and runs `apply` inside `tx`, unless the message was applied before.
 * Returns whether it ran. Call `ensureInbox(db)` once before.
 *
 * @example Apply a message once, with its effect
 * ```ts ignore
 * db.transaction((tx) => {
 *   applyOnce(tx, { id, source, offset }, () => orders.publish(payload, { tx }));
 * });
 * ```
 */
export function applyOnce(tx: Transaction, key: InboxKey, apply: () => void): boolean {
  if (tx.run(INBOX_RECORD, [key.id, key.source, key.offset]).changes === 0) return false;
  if (key.offset !== null) tx.run(INBOX_SOURCE_SAVE, [key.source, key.offset]);
  apply();
  return true;
}

/**
 * Every source the file's inbox has applied messages from, with the highest offset applied.
 *
 * @example How far each peer has come
 * ```ts ignore
 * for (const { source, offset } of inboxSources(db)) console.log(source, offset);
 * ```
 */
export function inboxSources(db: Database): InboxSource[] {
  ensureInbox(db);
  return db.driver.all<{ source: string; offset: number; applied: number }>(INBOX_SOURCES)
    .map((row) => ({ source: row.source, offset: row.offset, applied: row.applied }));
}
