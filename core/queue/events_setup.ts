/**
 * The queue options of this feature, checked when a queue handle is made: `events` (persisted in
 * `_honker_ts_queues`, so every process and the triggers agree) and `resultTtlS`.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { requireSeconds } from "../db/validate.ts";
import { setQueueEvents } from "./settings.ts";

/**
 * Checks `events` and `resultTtlS`, then switches the queue's events on or off for the file
 * when `events` is given (a read, and a write only when it changes). Returns the result TTL.
 *
 * @throws {TypeError} When `events` is not a boolean; nothing is written.
 */
export function configureQueueEvents(
  ctx: DatabaseContext,
  queue: string,
  options: { events?: unknown; resultTtlS?: unknown },
  resultTtlDefaultS: number,
  action: string,
): number {
  const ttlS = requireSeconds(options.resultTtlS ?? resultTtlDefaultS, "resultTtlS", action);
  const { events } = options;
  if (events === undefined) return ttlS;
  if (typeof events !== "boolean") {
    throw new TypeError(`Cannot ${action}: events must be true or false, got ${String(events)}`);
  }
  const driver = ctx.open(action);
  if (setQueueEvents(driver, queue, events)) ctx.wrote();
  return ttlS;
}
