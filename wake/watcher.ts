/**
 * The cross-process change watcher of one Database: file-system events confirmed by the change
 * probe (`fs`, with the backstop poll of `backstop.ts`), the futex-style poller (`poll`), or
 * `auto`, which starts with `fs` and falls back to `poll` when the directory's events do not
 * arrive within a second. A stat() of the file on every event on it, with every backstop poll
 * and (in poll mode) every 250 ms notices it being replaced. It starts at the Database's first
 * wait, not at open, and in fs mode sleeps while nothing waits (`watch_sleeper.ts`). Its options
 * and their checks are in `watch_options.ts`. A fallback the application did not choose (polling
 * instead of events, or no watcher at all) is reported once per process on the console
 * (`fallback_warning.ts`).
 *
 * @module
 */

import { basename, dirname } from "node:path";
import process from "node:process";
import { clearInterval, setInterval } from "node:timers";
import type { DriverName } from "../adapters/auto.ts";
import { probeOrAssumeOther, versionProbe } from "./version_probe.ts";
import type { StampingProbe } from "./version_probe.ts";
import { WatcherDiedError } from "../core/db/errors.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import type { Waker } from "../core/wait/waker.ts";
import { startBackstop } from "./sources/backstop.ts";
import type { Backstop } from "./sources/backstop.ts";
import { startFsSource } from "./sources/fs_source.ts";
import type { FsSourceOptions } from "./sources/event_confirmer.ts";
import { inotifyAvailable, startInotifySource } from "./sources/inotify_source.ts";
import { warnDenoPolls, warnFsEventsFailed, warnWatcherFailed } from "./fallback_warning.ts";
import { identityCheck } from "./identity.ts";
import { startPollSource } from "./sources/poll_source.ts";
import { checkWatchOptions, fsEventsUnsafe } from "./watch_options.ts";
import { WatchSleeper } from "./watch_sleeper.ts";
import { verifyFsEvents } from "./fs_events_check.ts";
import type { WakeSource, WatchOptions } from "../core/database_options.ts";

export { FS_PROBE_TIMEOUT_MS } from "./fs_events_check.ts";
/**
 * Poll mode: how often the file's identity is checked. In fs mode it is checked on every event
 * for the database file (a rename-over raises one) and with each backstop poll, on the
 * backstop's timer: every timer wake-up costs idle CPU.
 */
export const IDENTITY_CHECK_MS = 250;

const BUILT_IN: Record<string, DriverName> = {
  "node:sqlite": "node-sqlite",
  "bun:sqlite": "bun-sqlite",
  "deno-ffi": "deno-ffi",
  "bun-ffi": "bun-ffi",
};

/** A running change source (fs events, inotify or polling): how to stop it (or pause it). */
interface Source {
  stop(): void;
  pause?(): void;
  resume?(): void;
}

/** A started watcher. */
export interface WatcherHandle {
  /** How changes are detected right now (auto mode may move from "fs" to "poll"). */
  readonly source: Exclude<WakeSource, "local">;
}

/**
 * Watches `driver`'s file for `waker` from the first wait on: a Database nobody waits on (a
 * producer that only enqueues, a CLI command) starts no watcher, no worker thread and no timer.
 * Everything stops when the waker closes.
 */
export function startWatcher(
  waker: Waker,
  driver: SqliteDriver,
  options: WatchOptions,
): WatcherHandle {
  const opts = checkWatchOptions(options);
  // The baselines are taken at open: a commit made before the first wait is still seen.
  const wakes = { count: 0 };
  // The waker's count of changes, less the watcher's own wakes: this process's API writes.
  const probe = versionProbe(driver, {
    ownWrites: () => waker.allSeq - wakes.count,
    ownCommits: () => waker.ownCommits,
  });
  waker.onClose(() => probe.release());
  const checkIdentity = identityCheck(driver.path);
  let watcher: WatcherHandle | undefined;
  let planned: "fs" | "poll" = opts.wake === "poll" || fsEventsUnsafe() ? "poll" : "fs";
  waker.onFirstWait(() => {
    try {
      watcher = runWatcher(waker, driver, opts, probe, checkIdentity, wakes);
    } catch (error) {
      // No worker thread could be started (a missing permission, say): waits still poll, on
      // their own timeouts.
      planned = "poll";
      warnWatcherFailed(error);
      waker.die(
        new WatcherDiedError(
          `The watcher could not start (${(error as Error)?.message ?? error}); waits fall ` +
            "back to polling",
        ),
      );
    }
  });
  return {
    get source() {
      return watcher?.source ?? planned;
    },
  };
}

/** Starts the change source, the identity check and (in fs mode) the backstop poll. */
function runWatcher(
  waker: Waker,
  driver: SqliteDriver,
  opts: Required<WatchOptions>,
  probe: StampingProbe,
  checkIdentity: () => WatcherDiedError | undefined,
  wakes: { count: number },
): WatcherHandle {
  const watcher = new Watcher(waker, driver, opts, probe, checkIdentity, wakes);
  watcher.start();
  return watcher;
}

/** A running watcher: its mode, its change source and what checks the file's identity. */
class Watcher implements WatcherHandle {
  readonly #waker: Waker;
  readonly #driver: SqliteDriver;
  readonly #opts: Required<WatchOptions>;
  readonly #probe: StampingProbe;
  readonly #checkIdentity: () => WatcherDiedError | undefined;
  /** How many times this watcher woke the waker: the rest of its `allSeq` is our own writes. */
  readonly #wakes: { count: number };
  #source: Source | undefined;
  #mode: "fs" | "poll" = "fs";
  #dead = false;
  /** In fs mode the backstop checks identity too; in poll mode this timer does. */
  #backstop: Backstop | undefined;
  #identityTimer: ReturnType<typeof setInterval> | undefined;
  /** The auto-mode probe file's name, and whether its event arrived (fs mode). */
  #probeName = "";
  #probeSeen = false;
  #probeSent = false;
  /** Fs mode: the event source and the backstop are stopped while nobody waits. */
  #asleep = false;
  #sleeper: WatchSleeper | undefined;

  constructor(
    waker: Waker,
    driver: SqliteDriver,
    opts: Required<WatchOptions>,
    probe: StampingProbe,
    checkIdentity: () => WatcherDiedError | undefined,
    wakes: { count: number },
  ) {
    this.#wakes = wakes;
    this.#waker = waker;
    this.#driver = driver;
    this.#opts = opts;
    this.#probe = probe;
    this.#checkIdentity = checkIdentity;
  }

  /** How changes are detected right now. */
  get source(): "fs" | "poll" {
    return this.#mode;
  }

  /** Starts polling, or file-system events with the backstop poll; stops with the waker. */
  start(): void {
    // Looks read the stamp only from here on: before the first wait no change is versioned.
    this.#waker.useStamps(() => this.#probe.stamp());
    const unsafe = fsEventsUnsafe();
    if (this.#opts.wake === "poll" || unsafe) {
      this.#pollMode();
      if (unsafe && this.#opts.wake !== "poll") warnDenoPolls(unsafe);
    } else {
      this.#fsMode();
    }
    this.#sleeper = new WatchSleeper({
      sleep: () => this.#sleep(),
      wake: () => this.#wake(),
      catchUp: () => {
        if (this.#asleep || this.#dead || this.#waker.closed || this.#mode !== "fs") return;
        if (probeOrAssumeOther(this.#probe.other, true)) this.#onChange(this.#probe.version);
      },
    });
    this.#waker.onWatched((watched) => this.#sleeper?.watched(watched));
    this.#waker.onClose(() => this.#stop());
  }

  /**
   * Fs mode: stops the backstop and the event source while nobody waits; a source that is
   * costly to start again (the inotify worker thread: 35–190 ms on Deno) is paused instead.
   */
  #sleep(): boolean {
    if (this.#waker.closed || this.#dead || this.#mode !== "fs") return false;
    // Auto mode's check of the file-system events needs their source until its event came.
    if (this.#opts.wake === "auto" && !this.#probeSeen) return false;
    this.#asleep = true;
    this.#backstop?.stop();
    this.#backstop = undefined;
    if (this.#source?.pause) {
      this.#source.pause();
    } else {
      this.#source?.stop();
      this.#source = undefined;
    }
    return true;
  }

  /** Starts the backstop and the event source again; each catches up once in place. */
  #wake(): void {
    this.#asleep = false;
    if (!this.#verifyIdentity()) return;
    if (this.#source?.resume) {
      this.#startBackstop();
      this.#source.resume(); // reports the events that queued meanwhile
      this.#catchUp();
    } else {
      this.#startFs(); // its #ready() catches up once the watch is in place
    }
  }

  #onChange = (version?: number): void => {
    this.#wakes.count++;
    this.#waker.changed(version);
  };

  /** A probe that wakes waiters on any change, own raw writes included; true when it did. */
  #catchUp(): boolean {
    if (probeOrAssumeOther(this.#probe.any, "other") === "none") return false;
    this.#onChange(); // Own raw writes too: not every write goes through our API.
    return true;
  }

  #stop(): void {
    this.#sleeper?.stop();
    this.#source?.stop();
    this.#backstop?.stop();
    clearInterval(this.#identityTimer);
  }

  #verifyIdentity(): boolean {
    const error = this.#dead ? undefined : this.#checkIdentity();
    if (error) {
      this.#dead = true;
      this.#stop();
      this.#waker.die(error);
    }
    return !this.#dead;
  }

  #pollMode(): void {
    this.#mode = "poll";
    this.#backstop?.stop();
    this.#source = startPollSource({
      path: this.#driver.path,
      driver: BUILT_IN[this.#driver.name],
      pollIntervalMs: this.#opts.pollIntervalMs,
      probe: this.#probe,
      onChange: this.#onChange,
    });
    this.#identityTimer = setInterval(() => this.#verifyIdentity(), IDENTITY_CHECK_MS);
    this.#identityTimer.unref();
  }

  #fsMode(): void {
    const path = this.#driver.path;
    this.#probeName = `.${basename(path)}.honker-probe-${process.pid}-${Math.random()}`;
    this.#startFs();
  }

  /** Starts the backstop and the event source: at start, and each time the watcher wakes. */
  #startFs(): void {
    this.#startBackstop();
    try {
      this.#startEventSource();
    } catch (error) {
      // The directory cannot be watched at all.
      this.#fallBackToPoll(`cannot be watched (${(error as Error)?.message ?? error})`);
    }
  }

  #startBackstop(): void {
    this.#backstop = startBackstop({
      activeMs: this.#opts.backstopPollMs,
      idleMs: this.#opts.idleBackstopPollMs,
      poll: () => this.#verifyIdentity() && this.#catchUp(),
    });
  }

  #startEventSource(): void {
    const fsOptions: FsSourceOptions = {
      path: this.#driver.path,
      probe: this.#probe,
      // Confirmed by `probe.other()`: another connection's commit, at the version it read.
      onChange: () => this.#onChange(this.#probe.version),
      onDatabaseFileEvent: () => this.#verifyIdentity(),
      onActivity: () => this.#backstop?.activity(),
      lastOwnWriteAt: () => this.#waker.lastLocalWriteAt,
      onOtherFile: (name) => {
        if (name === this.#probeName) this.#probeSeen = true;
      },
    };
    if (inotifyAvailable()) {
      // The inotify worker starts asynchronously.
      this.#source = startInotifySource({
        ...fsOptions,
        probeName: this.#probeName,
        onFailed: () => this.#fallBackToPoll("stopped arriving (the inotify watch failed)"),
        onReady: () => this.#ready(),
      });
    } else {
      this.#source = startFsSource(fsOptions);
      this.#ready();
    }
  }

  /** Events raised before the watch was in place are lost: look once it is. */
  #ready(): void {
    if (this.#waker.closed || this.#dead || this.#mode !== "fs" || this.#asleep) return;
    this.#catchUp();
    if (this.#opts.wake === "auto" && !this.#probeSent) {
      this.#probeSent = true;
      const fallBack = (why: string) => this.#fallBackToPoll(why);
      verifyFsEvents(this.#probeName, this.#driver.path, () => this.#probeSeen, fallBack);
    }
  }

  /** `why` completes "file-system events in <directory> …" for the report. */
  #fallBackToPoll(why: string): void {
    if (this.#waker.closed || this.#dead || this.#mode === "poll") return;
    this.#source?.stop();
    this.#pollMode();
    warnFsEventsFailed(dirname(this.#driver.path), why);
  }
}
