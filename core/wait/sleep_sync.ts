/**
 * A synchronous sleep, for the places a synchronous step must wait for another process:
 * switching a new file to WAL while another process still holds its write lock (`open()` is
 * synchronous once the driver is open, and SQLite does not call the busy handler there), and a
 * background write waiting for the write lock in steps shorter than SQLite's busy handler takes
 * (`db/busy_retry.ts`).
 *
 * @module
 */

let cell: Int32Array | undefined;

/** Blocks this thread for `ms` milliseconds without spinning. */
export function sleepSync(ms: number): void {
  cell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, Math.max(0, ms));
}
