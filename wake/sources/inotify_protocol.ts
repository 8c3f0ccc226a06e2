/**
 * What Deno's inotify source and its worker thread share: the worker's start data and the
 * Int32 slots of their SharedArrayBuffer. Private to `wake/`.
 *
 * @module
 */

/** What the main thread hands the worker. */
export interface InotifyWorkerData {
  /** The directory to watch. */
  directory: string;
  /** The database file's name, and the names of its `-wal` and `-journal` files. */
  names: string[];
  /** The auto-mode probe file's name. */
  probeName: string;
  /** The eventfd the main thread writes to when it stops the source. */
  stopFd: number;
  /** Int32 slots, indexed by the `SLOT` constants. */
  shared: SharedArrayBuffer;
}

/** Int32 slots of the shared buffer. */
export const SLOT = {
  /** Bumped after every batch of events the main thread must look at. */
  COUNTER: 0,
  /** Set by the main thread to stop the worker. */
  STOP: 1,
  /** Events on the database file itself (a rename-over shows up here). */
  DATABASE_FILE: 2,
  /** Set once the auto-mode probe file's event was seen. */
  PROBE_SEEN: 3,
  /** Set when the watch could not be set up or was lost: the main thread falls back to polling. */
  FAILED: 4,
  /** Set once the watch is in place: events from then on are seen. */
  READY: 5,
} as const;

/** Number of Int32 slots. */
export const SLOT_COUNT = 6;
