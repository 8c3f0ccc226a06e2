/**
 * Reading a topic: a page of events after an offset, decoded and validated against the stream's
 * schema; and waiting for the next page. The Stream's `readSince()`/`waitForEvents()` and its
 * subscriptions all read through here.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { parseJson } from "../db/json.ts";
import { validateForRead } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import type { Waker } from "../wait/waker.ts";
import { waitLoop } from "../wait/wait_loop.ts";
import { readEvents } from "./ops.ts";
import type { EventValues } from "./ops.ts";
import type { StreamEvent } from "./types.ts";

/** Reads up to `limit` events after `offset`, without checking its arguments. */
export type ReadEvents<T> = (offset: number, limit: number) => StreamEvent<T>[];

/** Decodes a stored row of `topic`. */
export function toEvent<T>(row: EventValues, topic: string): StreamEvent<T> {
  return { offset: row[0], topic, key: row[1], payload: parseJson<T>(row[2]), createdAt: row[3] };
}

/**
 * The reader of `topic`: each page decoded, and with a schema validated event by event. An event
 * that no longer matches stops the reader with a TypeError naming its offset, since skipping it
 * would lose it.
 */
export function eventReader<T>(
  ctx: DatabaseContext,
  topic: string,
  schema: StandardSchemaV1 | undefined,
): ReadEvents<T> {
  const action = `read stream ${JSON.stringify(topic)}`;
  return (offset, limit) => {
    const rows = readEvents(ctx.open(action), topic, offset, limit);
    const events = new Array<StreamEvent<T>>(rows.length);
    for (let i = 0; i < rows.length; i++) events[i] = toEvent<T>(rows[i], topic);
    if (schema === undefined) return events;
    for (const event of events) {
      const what = `the event at offset ${event.offset}`;
      event.payload = validateForRead(schema, event.payload, what, action) as T;
    }
    return events;
  };
}

/**
 * Reads the page after `offset` as soon as it holds an event, sleeping between looks until a
 * commit from any process; `[]` once `timeoutMs` passes, the signal aborts or the database
 * closes.
 */
export async function waitForPage<T>(
  waker: Waker,
  read: ReadEvents<T>,
  page: { offset: number; limit: number; timeoutMs: number; signal?: AbortSignal },
): Promise<StreamEvent<T>[]> {
  const { offset, limit, timeoutMs, signal } = page;
  const deadline = Date.now() + timeoutMs;
  const events = await waitLoop(waker, () => {
    const found = read(offset, limit);
    return found.length > 0 || Date.now() >= deadline ? found : undefined;
  }, { signal, sleepMs: () => deadline - Date.now() });
  return events ?? [];
}
