/**
 * honker's stream and notify SQL functions, over the same operations the
 * TypeScript API uses.
 *
 * @module
 */

import type { SqlFunction, SqliteDriver } from "../db/driver.ts";
import { insertNotification } from "../notify/notify.ts";
import { fail, int, text } from "../db/sql_args.ts";
import * as ops from "./ops.ts";

/** name → [arity, implementation]. */
export function streamFunctions(d: SqliteDriver): Record<string, [number, SqlFunction]> {
  return {
    notify: [2, (...a) => insertNotification(d, text("notify", a, 0), text("notify", a, 1))],
    honker_stream_publish: [3, (...a) => {
      const f = "honker_stream_publish";
      const key = a[1] === null ? null : text(f, a, 1);
      return ops.publishEvent(d, text(f, a, 0), key, text(f, a, 2));
    }],
    honker_stream_read_since: [3, (...a) => {
      const f = "honker_stream_read_since";
      const limit = int(f, a, 2);
      // A negative LIMIT would mean "everything" to SQLite; honker-ts refuses it.
      if (limit < 0) fail(f, `limit must not be negative, got ${limit}`);
      const topic = text(f, a, 0);
      const rows = ops.readEvents(d, topic, int(f, a, 1), limit);
      // Keys in serde's sorted order, as honker returns them; the topic matched byte for byte.
      return JSON.stringify(rows.map(([offset, key, payload, createdAt]) => ({
        created_at: createdAt,
        key,
        offset,
        payload,
        topic,
      })));
    }],
    honker_stream_save_offset: [3, (...a) => {
      const f = "honker_stream_save_offset";
      return ops.saveConsumerOffset(d, text(f, a, 0), text(f, a, 1), int(f, a, 2));
    }],
    honker_stream_get_offset: [2, (...a) => {
      const f = "honker_stream_get_offset";
      return ops.getConsumerOffset(d, text(f, a, 0), text(f, a, 1));
    }],
  };
}
