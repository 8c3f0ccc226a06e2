/**
 * The bridge's read of a topic: `_honker_stream` rows after an offset, with the payload as the
 * JSON text the file stores, which is what a sink sends (no parse and stringify per event).
 *
 * @module
 */

import type { Database } from "../mod.ts";
import { EVENT_READ_SINCE } from "../core/stream/sql.ts";
import type { SinkMessage } from "./sink.ts";

interface EventRow {
  [column: string]: string | number | null;
  offset: number;
  key: string | null;
  payload: string;
  created_at: number;
}

/** Up to `limit` events of `topic` after `offset`, oldest first, as sink messages of `source`. */
export function readMessages(
  db: Database,
  source: string,
  topic: string,
  offset: number,
  limit: number,
): SinkMessage[] {
  if (db.closed) return [];
  return db.driver.all<EventRow>(EVENT_READ_SINCE, [topic, offset, limit]).map((row) => ({
    id: `${source}:${row.offset}`,
    source,
    topic,
    offset: row.offset,
    key: row.key,
    createdAt: row.created_at,
    payload: row.payload,
  }));
}
