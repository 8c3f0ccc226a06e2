/**
 * The watcher's fallbacks, reported on the console once per process: polling costs far more
 * CPU than file-system events, and a watcher that could not start wakes waiters late, so a
 * program that did not choose either should learn what happened, why, and how to get
 * file-system wake-ups back. Once per process, never per Database: a program that opens many
 * Databases (or reopens one) would otherwise repeat the same advice.
 *
 * @module
 */

import { DEAD_WATCHER_POLL_MS } from "../core/wait/waker.ts";

const reported = new Set<string>();

/** Prints `message` on stderr the first time `key` is reported in this process. */
function warnOnce(key: string, message: string): void {
  if (reported.has(key)) return;
  reported.add(key);
  console.warn(`honker-ts: ${message}`);
}

const CHOOSE_POLL = 'open with { wake: "poll" } to choose polling and not see this again';

/**
 * Auto mode on Deno without inotify: waits poll from the start. `reason` says why Deno's own
 * watchers and inotify cannot be used (`fsEventsUnsafe()`).
 */
export function warnDenoPolls(reason: string): void {
  warnOnce(
    "deno-polls",
    "waits for other processes' commits poll the database every millisecond in a worker " +
      "thread (20-30 ms of CPU per idle second) instead of using file-system events (about " +
      `2 ms): ${reason}. Run Deno with --allow-ffi (on Linux) for file-system wake-ups, or ` +
      CHOOSE_POLL,
  );
}

/** File-system events did not work for the database in `directory`: waits poll instead. */
export function warnFsEventsFailed(directory: string, why: string): void {
  warnOnce(
    "fs-events-failed",
    `file-system events in ${JSON.stringify(directory)} ${why}, so waits for other processes' ` +
      "commits poll the database every millisecond in a worker thread instead (20-50 ms of " +
      "CPU per idle second). Keep the database on a local file system for file-system " +
      `wake-ups, or ${CHOOSE_POLL}`,
  );
}

/**
 * No change source could start (no worker thread): waits see other processes' commits only by
 * polling on their own, every DEAD_WATCHER_POLL_MS at the slowest.
 */
export function warnWatcherFailed(error: unknown): void {
  warnOnce(
    "watcher-failed",
    `the change watcher could not start (${(error as Error)?.message ?? error}), so other ` +
      `processes' commits are noticed only by polling every ${DEAD_WATCHER_POLL_MS} ms. Its ` +
      "worker threads load honker-ts's own files: on Deno, allow reading them too " +
      "(--allow-read=<the database's directory>,<where honker-ts is installed>)",
  );
}
