/**
 * The options of an outbox bridge and their defaults: its name, the publishes in flight, its
 * leader lock and how far back it reconciles with the sink on start.
 *
 * @module
 */

/** Publishes in flight at once, by default. */
export const WINDOW_SIZE_DEFAULT = 128;
/** Seconds the bridge's leader lock lasts between renewals, by default. */
export const BRIDGE_LOCK_TTL_DEFAULT_S = 10;

/** Options for an outbox bridge. */
export interface OutboxBridgeOptions {
  /** Names the bridge's lock and saved position; defaults to `<sink name>:<topic>`. */
  name?: string;
  /**
   * Publishes in flight at once (default 128). Above 1, the sink may store events out of offset
   * order (a retried publish lands after later ones): consumers that need order sort by the
   * offset header per source; `windowSize: 1` keeps the sink's order the file's, at about a
   * tenth of the rate.
   */
  windowSize?: number;
  /** Who holds the leader lock; defaults to a random id per bridge. */
  owner?: string;
  /** Seconds the leader lock lasts between renewals (default 10): a dead leader's takeover time. */
  lockTtlS?: number;
  /** How many of the sink's last messages to read on start (default 4 × windowSize, ≥ 1000). */
  reconcileScan?: number;
  /** Called with every failure before it is retried. */
  onError?: (error: unknown) => void;
}

/** The keys `OutboxBridgeOptions` may have: any other is refused before anything is written. */
export const OUTBOX_BRIDGE_OPTION_KEYS: readonly (keyof OutboxBridgeOptions)[] = [
  "name",
  "windowSize",
  "owner",
  "lockTtlS",
  "reconcileScan",
  "onError",
];
