/**
 * A synchronous sleep, for the one place a synchronous step must wait for another process:
 * switching a new file to WAL while another process still holds its write lock (`open()` is
 * synchronous once the driver is open, and SQLite does not call the busy handler there).
 *
 * @module
 */

let cell: Int32Array | undefined;

/** Blocks this thread for `ms` milliseconds without spinning. */
export function sleepSync(ms: number): void {
  cell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, Math.max(0, ms));
}
