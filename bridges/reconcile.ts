/**
 * Where an outbox bridge resumes on start: its saved position reconciled with the offsets the
 * sink actually holds at its tail. Events the sink stored after the last save are skipped (the
 * outage may have outlasted the sink's duplicate window), and events it lost are published again.
 *
 * @module
 */

/** Where to start after a restart, given the saved position and the offsets the sink holds. */
export function reconcile(saved: number, held: readonly number[]): {
  start: number;
  skip: Set<number>;
} {
  if (held.length === 0) return { start: saved, skip: new Set() };
  const start = Math.min(saved, Math.max(...held));
  return { start, skip: new Set(held.filter((offset) => offset > start)) };
}
