/**
 * The futex-style poller, run in a worker thread: it polls `PRAGMA data_version` on its own
 * connection every `pollIntervalMs`, sleeping in `Atomics.wait` (no timers, no event loop), and
 * bumps a shared counter that the main thread awaits with `Atomics.waitAsync`.
 *
 * Shared Int32Array: [0] change counter, [1] stop flag, [2] set once the worker's connection is
 * closed (or was never opened), so that `close()` can close the main connection last.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { openDriver } from "../../adapters/auto.ts";
import type { DriverName } from "../../adapters/auto.ts";

/** What the main thread hands the worker. */
export interface PollWorkerData {
  path: string;
  driver: DriverName;
  pollIntervalMs: number;
  shared: SharedArrayBuffer;
}

const COUNTER = 0;
const STOP = 1;

/** Set once this worker holds no connection any more. */
const CLOSED = 2;

async function main(data: PollWorkerData, flags: Int32Array): Promise<void> {
  // Stopped while starting up: never open a connection the main thread is not waiting for.
  if (Atomics.load(flags, STOP) !== 0) return;
  const driver = await openDriver(data.path, data.driver);
  try {
    const read = () => driver.get<{ data_version: number }>("PRAGMA data_version")?.data_version;
    let last = read();
    // A commit between open() and this first reading changed nothing we could see: report one
    // change now so that waiters re-check, instead of sleeping until the next commit.
    Atomics.add(flags, COUNTER, 1);
    Atomics.notify(flags, COUNTER);
    while (Atomics.load(flags, STOP) === 0) {
      Atomics.wait(flags, STOP, 0, data.pollIntervalMs);
      let now: number | undefined;
      try {
        now = read();
      } catch {
        now = undefined; // Busy or failing: report a conservative change.
      }
      if (now === last && now !== undefined) continue;
      last = now;
      Atomics.add(flags, COUNTER, 1);
      Atomics.notify(flags, COUNTER);
    }
  } finally {
    driver.close();
  }
}

const data = workerData as PollWorkerData;
const flags = new Int32Array(data.shared);
try {
  await main(data, flags);
} catch (error) {
  // The main thread falls back to polling on a timer; an uncaught error would only be noise.
  parentPort?.postMessage({ failed: String((error as Error)?.message ?? error) });
} finally {
  Atomics.store(flags, CLOSED, 1);
  Atomics.notify(flags, CLOSED);
}
