/**
 * Torture role: walks the events stream as a named consumer and records every offset it handles,
 * in order, with its pid and round (so each incarnation's order can be checked on its own).
 *
 * Its loop body throws at random before recording an event, as a handler with a bug would; like
 * an application's supervisor, the role then subscribes again under the same consumer name (a new
 * round), and the event in hand must be delivered again. Each throw is recorded first, in its own
 * transaction, so the check can tell.
 *
 * ```sh
 * <runtime> tests/torture/subscriber.ts <db> <name> '{"throwProbability":0.03,"busyTimeoutMs":10000}'
 * ```
 *
 * @module
 */

import process from "node:process";
import { runRole } from "./_role.ts";
import { EVENT_THROW_INSERT, EVENTS_TOPIC, RANDOM_EVENT_FAILURE, SEEN_INSERT } from "./_shared.ts";
import type { EventPayload, SubscriberConfig } from "./_shared.ts";

/** What a subscriber did, besides what it recorded in the file. */
interface SubscriberStats {
  seen: number;
  threw: number;
  /** Subscriptions started: one, plus one per throw. */
  rounds: number;
}

await runRole<SubscriberConfig, SubscriberStats>(async ({ db, name, config, signal }) => {
  const events = db.stream<EventPayload>(EVENTS_TOPIC);
  const stats: SubscriberStats = { seen: 0, threw: 0, rounds: 0 };
  while (!signal.aborted) {
    const round = ++stats.rounds;
    try {
      for await (const event of events.subscribe(name, { signal })) {
        if (Math.random() < config.throwProbability) {
          db.transaction((tx) =>
            tx.run(EVENT_THROW_INSERT, [name, process.pid, round, event.offset])
          );
          stats.threw++;
          throw new Error(RANDOM_EVENT_FAILURE);
        }
        db.transaction((tx) =>
          tx.run(SEEN_INSERT, [name, process.pid, round, event.offset, Date.now()])
        );
        stats.seen++;
      }
    } catch (error) {
      if ((error as Error)?.message !== RANDOM_EVENT_FAILURE) throw error;
    }
  }
  return stats;
});
