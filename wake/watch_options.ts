/**
 * The watcher's options as `open()` takes them (their type, `WatchOptions`, is in
 * `core/database_options.ts`, which `DatabaseOptions` extends): their defaults, which wake modes
 * this runtime can use, and the checks made before anything is opened.
 *
 * @module
 */

import { runtimeKey } from "../platform/runtime.ts";
import { requireTimerMs } from "../core/db/validate.ts";
import { inotifyAvailable } from "./sources/inotify_source.ts";
import type { WatchOptions } from "../core/database_options.ts";

/**
 * Every key of `WatchOptions`, for `open()`'s check of unknown options (`checkWatchOptions`
 * itself takes the whole options bag, so it cannot refuse the others').
 */
export const WATCH_OPTION_KEYS: readonly (keyof WatchOptions)[] = [
  "wake",
  "pollIntervalMs",
  "backstopPollMs",
  "idleBackstopPollMs",
];

/** Default poll cadence in poll mode, as honker's watcher. */
export const POLL_INTERVAL_DEFAULT_MS = 1;
/** Default backstop poll in fs mode. */
export const BACKSTOP_POLL_DEFAULT_MS = 250;
/** The shortest default idle backstop poll in fs mode. */
export const IDLE_BACKSTOP_POLL_DEFAULT_MS = 1000;

function milliseconds(value: number | undefined, fallback: number, what: string): number {
  return value === undefined ? fallback : requireTimerMs(value, what, "open the database");
}

/**
 * Why file-system events cannot be used on this runtime, or undefined when they can.
 *
 * Deno's watchers (both `fs.watch` and `Deno.watchFs`) open and close every file they report
 * (seen with strace), and closing any descriptor of the database or its `-shm` file drops every
 * POSIX lock SQLite holds on it in this process (honker issue #80): two processes then claimed
 * the same job. So Deno never uses them: on Linux with `--allow-ffi` it reads inotify itself
 * (`inotify_source.ts`), which opens nothing; otherwise it polls.
 */
export function fsEventsUnsafe(): string | undefined {
  return runtimeKey() === "deno" && !inotifyAvailable()
    ? "Deno's file watcher opens and closes the files it reports, which drops SQLite's POSIX " +
      "locks on the database (honker issue #80), and inotify through FFI needs Linux and " +
      "--allow-ffi"
    : undefined;
}

/** Checks watcher options before anything is opened. */
export function checkWatchOptions(options: WatchOptions): Required<WatchOptions> {
  const wake = options.wake ?? "auto";
  if (wake !== "auto" && wake !== "fs" && wake !== "poll") {
    throw new TypeError(
      `Cannot open the database: wake must be "auto", "fs" or "poll", got ${JSON.stringify(wake)}`,
    );
  }
  const unsafe = wake === "fs" ? fsEventsUnsafe() : undefined;
  if (unsafe) {
    throw new TypeError(`Cannot open the database with wake "fs": ${unsafe}; use "poll" or "auto"`);
  }
  const backstopPollMs = milliseconds(
    options.backstopPollMs,
    BACKSTOP_POLL_DEFAULT_MS,
    "backstopPollMs",
  );
  const idleBackstopPollMs = milliseconds(
    options.idleBackstopPollMs,
    Math.max(backstopPollMs, IDLE_BACKSTOP_POLL_DEFAULT_MS),
    "idleBackstopPollMs",
  );
  if (idleBackstopPollMs < backstopPollMs) {
    throw new RangeError(
      `Cannot open the database: idleBackstopPollMs (${idleBackstopPollMs}) must not be ` +
        `shorter than backstopPollMs (${backstopPollMs})`,
    );
  }
  return {
    wake,
    pollIntervalMs: milliseconds(
      options.pollIntervalMs,
      POLL_INTERVAL_DEFAULT_MS,
      "pollIntervalMs",
    ),
    backstopPollMs,
    idleBackstopPollMs,
  };
}
