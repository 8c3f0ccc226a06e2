/**
 * The file-system event source of Deno and Bun on Linux: inotify through libc (Deno FFI or
 * `bun:ffi`), read by a worker thread (`inotify_worker.ts`), confirmed on the main thread
 * exactly like the `fs.watch` source. Deno's own watchers cannot be used: they open and close
 * the files they report, which drops SQLite's POSIX locks (honker issue #80). Bun's `fs.watch`
 * drops an event within a millisecond of another for the same file: under load most commits
 * raised none, and were seen by the looks that follow a confirmed event, 0.5 ms apart. inotify
 * opens nothing and drops nothing (its queue overflowing is reported, and counts as a change).
 *
 * Needs glibc's `libc.so.6`, and `--allow-ffi` on Deno; without it Deno polls and Bun uses
 * `fs.watch`.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { loadLibc, O_CLOEXEC, O_NONBLOCK } from "./libc_inotify.ts";
import type { Libc } from "./libc_inotify.ts";
import { eventConfirmer } from "./event_confirmer.ts";
import type { EventConfirmer, FsSourceOptions } from "./event_confirmer.ts";
import type { FsSource } from "./fs_source.ts";
import { SLOT, SLOT_COUNT } from "./inotify_protocol.ts";
import type { InotifyWorkerData } from "./inotify_protocol.ts";
import { followCounter } from "./shared_counter.ts";

/**
 * The main thread's own re-checks after an unconfirmed event, once the worker's ticks
 * (TICK_DELAYS_MS, 1.6 ms in all) have passed: a commit whose event came long before it was
 * visible.
 */
const RECHECK_AFTER_TICKS_MS: readonly number[] = [1, 2, 4, 8, 16];

/** True on Deno (with FFI allowed) and Bun on Linux with glibc: file events come from inotify. */
export function inotifyAvailable(): boolean {
  return loadLibc() !== undefined;
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
  if (libc === undefined) {
    throw new Error("inotify needs Linux with glibc, and --allow-ffi on Deno");
  }
  const stopFd = libc.eventfd(0, O_NONBLOCK | O_CLOEXEC);
  if (stopFd < 0) throw new Error("eventfd() failed");
  return new InotifySource(options, libc, stopFd);
}

/** Starts the worker, closing `stopFd` when it cannot be started. */
function startWorker(libc: Libc, data: InotifyWorkerData): Worker {
  // The worker file sits beside this one: .ts from source, .js from dist/.
  const script = import.meta.url.endsWith(".ts") ? "./inotify_worker.ts" : "./inotify_worker.js";
  let worker: Worker;
  try {
    worker = new Worker(new URL(script, import.meta.url), { workerData: data });
  } catch (error) {
    libc.close(data.stopFd);
    throw error;
  }
  worker.unref();
  return worker;
}

/** The running source: reads the worker's slots on each signal and feeds the confirmer. */
class InotifySource implements FsSource {
  readonly #options: InotifySourceOptions;
  readonly #libc: Libc;
  readonly #stopFd: number;
  readonly #base: string;
  readonly #flags: Int32Array;
  readonly #confirmer: EventConfirmer;
  #stopped = false;
  #exited = false;
  #failed = false;
  #databaseFileEvents = 0;
  #probeReported = false;
  #readyReported = false;

  constructor(options: InotifySourceOptions, libc: Libc, stopFd: number) {
    this.#options = options;
    this.#libc = libc;
    this.#stopFd = stopFd;
    this.#base = basename(options.path);
    const shared = new SharedArrayBuffer(4 * SLOT_COUNT);
    this.#flags = new Int32Array(shared);
    this.#confirmer = eventConfirmer(
      {
        ...options,
        onChange: () => {
          this.#stopTicks();
          options.onChange();
        },
        // Our own claims and acks raise events too: re-checking them at 0.1 ms finds nothing.
        onOwnWriteEvent: () => this.#stopTicks(),
        // Nothing being written: the ticks could only find nothing, and while the worker waits
        // for its next one, the events of a commit begun since wait in the kernel's queue. So it
        // is woken now, to read them as they come; nobody is being woken on this thread.
        onNothingPending: () => {
          this.#stopTicks();
          Atomics.notify(this.#flags, SLOT.TICKING);
        },
      },
      RECHECK_AFTER_TICKS_MS,
      [],
    );
    const worker = startWorker(libc, {
      directory: dirname(options.path),
      names: [this.#base, `${this.#base}-wal`, `${this.#base}-journal`],
      probeName: options.probeName,
      stopFd,
      shared,
    });
    worker.on("error", () => this.#failOver());
    // The eventfd is closed only once the worker that polls it is gone, and never written after
    // that: a closed descriptor's number may be handed to a file SQLite opens next, and the stop
    // write would land in it.
    worker.once("exit", () => {
      this.#exited = true;
      libc.close(stopFd);
    });
    followCounter(this.#flags, SLOT.COUNTER, () => this.#stopped, () => this.#onSignal());
  }

  /** Stops reading events until `resume()`: they queue in the kernel meanwhile. */
  pause(): void {
    Atomics.store(this.#flags, SLOT.PAUSED, 1);
  }

  /** Reads events again, first those that queued while paused. */
  resume(): void {
    if (this.#stopped || this.#exited || Atomics.load(this.#flags, SLOT.PAUSED) === 0) return;
    Atomics.store(this.#flags, SLOT.PAUSED, 0);
    const one = new Uint8Array(8);
    one[0] = 1;
    this.#libc.write(this.#stopFd, one, 8); // Wakes the worker's poll() on the eventfd alone.
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#confirmer.stop();
    Atomics.store(this.#flags, SLOT.STOP, 1);
    Atomics.notify(this.#flags, SLOT.COUNTER); // Ends our own pending waitAsync.
    this.#stopTicks();
    Atomics.notify(this.#flags, SLOT.TICKING);
    if (this.#exited) return;
    const one = new Uint8Array(8);
    one[0] = 1;
    this.#libc.write(this.#stopFd, one, 8); // Wakes the worker's poll().
  }

  /**
   * The commit was seen: the worker's re-check ticks end at its next tick. No notify: waking
   * the worker now would have it compete for a CPU with the waiters being woken.
   */
  #stopTicks(): void {
    Atomics.store(this.#flags, SLOT.TICKING, 0);
  }

  #failOver(): void {
    if (this.#stopped || this.#failed) return;
    this.#failed = true;
    this.#options.onFailed();
  }

  #onSignal(): void {
    if (this.#stopped) return;
    const flags = this.#flags;
    if (Atomics.load(flags, SLOT.FAILED) !== 0) return this.#failOver();
    if (!this.#readyReported && Atomics.load(flags, SLOT.READY) !== 0) {
      this.#readyReported = true;
      this.#options.onReady?.();
    }
    if (!this.#probeReported && Atomics.load(flags, SLOT.PROBE_SEEN) !== 0) {
      this.#probeReported = true;
      this.#options.onOtherFile?.(this.#options.probeName);
    }
    this.#confirmer.onEvent(this.#databaseFileEvent() ? this.#base : undefined);
  }

  /** True when the worker counted an event on the database file since the last signal. */
  #databaseFileEvent(): boolean {
    const count = Atomics.load(this.#flags, SLOT.DATABASE_FILE);
    const changed = count !== this.#databaseFileEvents;
    this.#databaseFileEvents = count;
    return changed;
  }
}
