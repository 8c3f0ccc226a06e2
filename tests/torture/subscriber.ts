/**
 * Torture role: walks the events stream as a named consumer and records every offset it is
 * handed, in order, with its pid (so each incarnation's order can be checked on its own).
 *
 * ```sh
 * <runtime> tests/torture/subscriber.ts <db> <name> '{}'
 * ```
 *
 * @module
 */

import process from "node:process";
import { runRole } from "./_role.ts";
import { EVENTS_TOPIC, SEEN_INSERT } from "./_shared.ts";
import type { EventPayload } from "./_shared.ts";

await runRole<Record<string, never>, { seen: number }>(async ({ db, name, signal }) => {
  const events = db.stream<EventPayload>(EVENTS_TOPIC);
  let seen = 0;
  for await (const event of events.subscribe(name, { signal })) {
    db.transaction((tx) => tx.run(SEEN_INSERT, [name, process.pid, event.offset, Date.now()]));
    seen++;
  }
  return { seen };
});
