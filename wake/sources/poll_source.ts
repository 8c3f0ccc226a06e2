/**
 * Change detection by polling, for file systems without usable events (network mounts, some
 * containers) or by choice. With a built-in driver it runs the futex-style poller of
 * `poll_worker.ts` in a worker thread; with any other driver it polls the Database's own
 * connection on a timer.
 *
 * @module
 */

import { clearInterval, clearTimeout, setInterval, setTimeout } from "node:timers";
import { Worker } from "node:worker_threads";
import type { DriverName } from "../../adapters/auto.ts";
import { probeOrAssumeOther } from "../version_probe.ts";
import type { ChangeProbe } from "../version_probe.ts";
import type { PollWorkerData } from "./poll_worker.ts";
import { followCounter } from "./shared_counter.ts";

/** How long a stopping worker may take before it is terminated. */
const WORKER_STOP_GRACE_MS = 100;
/**
 * How long `stop()` blocks for the worker to close its connection. It wakes from its
 * `Atomics.wait` at once, so this is normally well under a millisecond; the bound only matters
 * for a worker still starting up. One that has not begun opening its connection opens none; one
 * whose open takes longer than this closes it late, as before this wait existed.
 */
const WORKER_CLOSE_WAIT_MS = 100;

/** What the poll source reports to. */
export interface PollSourceOptions {
  path: string;
  /** The built-in driver the worker opens its connection with; undefined polls on a timer. */
  driver: DriverName | undefined;
  pollIntervalMs: number;
  probe: ChangeProbe;
  onChange(): void;
}

/** A running poll source. */
export interface PollSource {
  stop(): void;
}

function startTimerPoll(options: PollSourceOptions): PollSource {
  const timer = setInterval(() => {
    if (probeOrAssumeOther(options.probe.any, "other") !== "none") options.onChange();
  }, options.pollIntervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function startWorkerPoll(options: PollSourceOptions, driver: DriverName): PollSource {
  const shared = new SharedArrayBuffer(12);
  const flags = new Int32Array(shared);
  const worker = startPollWorker({
    path: options.path,
    driver,
    pollIntervalMs: options.pollIntervalMs,
    shared,
  });
  let stopped = false;
  let fallback: PollSource | undefined;
  const fallBack = () => {
    if (!stopped) fallback ??= startTimerPoll(options);
  };
  worker.on("error", fallBack);
  worker.on("message", (message: { failed?: string }) => {
    if (message?.failed !== undefined) fallBack();
  });
  followCounter(flags, 0, () => stopped, () => options.onChange());
  return {
    stop() {
      stopped = true;
      fallback?.stop();
      stopPollWorker(worker, flags);
    },
  };
}

function startPollWorker(data: PollWorkerData): Worker {
  // The worker file sits beside this one: poll_worker.ts from source, poll_worker.js from dist/.
  const script = import.meta.url.endsWith(".ts") ? "./poll_worker.ts" : "./poll_worker.js";
  const worker = new Worker(new URL(script, import.meta.url), { workerData: data });
  worker.unref();
  return worker;
}

/** Sets the stop flag, wakes both sides' waits and waits (briefly) for the worker to close. */
function stopPollWorker(worker: Worker, flags: Int32Array): void {
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
  Atomics.notify(flags, 0);
  // Block until the worker's connection is closed, so that the Database's own connection,
  // closed right after this, is the last one: it checkpoints and removes the -wal file
  // itself, instead of a late close in the worker doing so after close() returned (which
  // made removing the directory fail with ENOTEMPTY).
  Atomics.wait(flags, 2, 0, WORKER_CLOSE_WAIT_MS);
  // The worker closes its connection and exits on the stop flag; terminate only a straggler.
  const kill = setTimeout(() => void worker.terminate(), WORKER_STOP_GRACE_MS);
  kill.unref();
  worker.once("exit", () => clearTimeout(kill));
}

/** Starts polling with a worker thread when the driver is built in, else on a timer. */
export function startPollSource(options: PollSourceOptions): PollSource {
  return options.driver === undefined
    ? startTimerPoll(options)
    : startWorkerPoll(options, options.driver);
}
