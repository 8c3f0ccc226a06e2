/**
 * Deno's file-system event source on Linux: inotify through libc (Deno FFI), read by a worker
 * thread (`inotify_worker.ts`), confirmed on the main thread exactly like the `fs.watch` source.
 * Deno's own watchers cannot be used: they open and close the files they report, which drops
 * SQLite's POSIX locks (honker issue #80); inotify opens nothing.
 *
 * Needs `--allow-ffi` (and glibc's `libc.so.6`); without it Deno polls.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { runtimeKey } from "../../platform/runtime.ts";
import { loadLibc, O_CLOEXEC, O_NONBLOCK } from "./libc_inotify.ts";
import { eventConfirmer } from "./fs_source.ts";
import type { FsSource, FsSourceOptions } from "./fs_source.ts";
import { SLOT, SLOT_COUNT } from "./inotify_protocol.ts";
import type { InotifyWorkerData } from "./inotify_protocol.ts";

/** True on Deno on Linux with FFI allowed: file-system events come from inotify. */
export function inotifyAvailable(): boolean {
  return runtimeKey() === "deno" && loadLibc() !== undefined;
}

/** Options of the inotify source beyond the fs source's. */
export interface InotifySourceOptions extends FsSourceOptions {
  /** The auto-mode probe file's name, reported through `onOtherFile`. */
  probeName: string;
  /** The watch could not be set up, or was lost: fall back to polling. */
  onFailed(): void;
  /** The watch is in place (the worker starts asynchronously): events from now on are seen. */
  onReady?(): void;
}

/** Starts the inotify worker. Throws when libc or an eventfd is not available. */
export function startInotifySource(options: InotifySourceOptions): FsSource {
  const libc = loadLibc();
  if (libc === undefined) throw new Error("inotify needs Deno on Linux with --allow-ffi");
  const stopFd = libc.eventfd(0, O_NONBLOCK | O_CLOEXEC);
  if (stopFd < 0) throw new Error("eventfd() failed");
  const base = basename(options.path);
  const shared = new SharedArrayBuffer(4 * SLOT_COUNT);
  const flags = new Int32Array(shared);
  const data: InotifyWorkerData = {
    directory: dirname(options.path),
    names: [base, `${base}-wal`, `${base}-journal`],
    probeName: options.probeName,
    stopFd,
    shared,
  };
  const confirmer = eventConfirmer(options);
  // The worker file sits beside this one: .ts from source, .js from dist/.
  const script = import.meta.url.endsWith(".ts") ? "./inotify_worker.ts" : "./inotify_worker.js";
  let worker: Worker;
  try {
    worker = new Worker(new URL(script, import.meta.url), { workerData: data });
  } catch (error) {
    libc.close(stopFd);
    throw error;
  }
  worker.unref();
  let stopped = false;
  let exited = false;
  let failed = false;
  let databaseFileEvents = 0;
  let probeReported = false;
  let readyReported = false;
  const failOver = () => {
    if (stopped || failed) return;
    failed = true;
    options.onFailed();
  };
  worker.on("error", failOver);
  // The eventfd is closed only once the worker that polls it is gone, and never written after
  // that: a closed descriptor's number may be handed to a file SQLite opens next, and the stop
  // write would land in it.
  worker.once("exit", () => {
    exited = true;
    libc.close(stopFd);
  });

  const onSignal = () => {
    if (stopped) return;
    if (Atomics.load(flags, SLOT.FAILED) !== 0) return failOver();
    if (!readyReported && Atomics.load(flags, SLOT.READY) !== 0) {
      readyReported = true;
      options.onReady?.();
    }
    if (!probeReported && Atomics.load(flags, SLOT.PROBE_SEEN) !== 0) {
      probeReported = true;
      options.onOtherFile?.(options.probeName);
    }
    const onDatabaseFile = Atomics.load(flags, SLOT.DATABASE_FILE);
    const name = onDatabaseFile !== databaseFileEvents ? base : undefined;
    databaseFileEvents = onDatabaseFile;
    confirmer.onEvent(name);
  };
  // The counter is read before the slots are looked at: a signal that lands while onSignal runs
  // leaves the counter unequal to `seen`, so the next wait returns at once instead of losing it.
  const arm = (seen: number): void => {
    if (stopped) return;
    const result = Atomics.waitAsync(flags, SLOT.COUNTER, seen);
    const next = () => {
      const now = Atomics.load(flags, SLOT.COUNTER);
      onSignal();
      arm(now);
    };
    if (result.async) result.value.then(next);
    else queueMicrotask(next);
  };
  arm(Atomics.load(flags, SLOT.COUNTER));
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      confirmer.stop();
      Atomics.store(flags, SLOT.STOP, 1);
      Atomics.notify(flags, SLOT.COUNTER); // Ends our own pending waitAsync.
      if (exited) return;
      const one = new Uint8Array(8);
      one[0] = 1;
      libc.write(stopFd, one, 8); // Wakes the worker's poll().
    },
  };
}
