/**
 * Notices the database file being replaced under us (rename-over, restore, deletion) by its
 * (dev, ino), read with stat(): never open() or close() the database file ourselves, since closing
 * any descriptor on an inode drops every POSIX lock the process holds on it (honker issue #80).
 *
 * @module
 */

import { statSync } from "node:fs";
import { clearInterval, setInterval } from "node:timers";
import { WatcherDiedError } from "../core/errors.ts";

/** How often the file's identity is checked. */
export const IDENTITY_CHECK_MS = 100;

function identity(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

/** Calls `onReplaced` once if `path` stops being the file it is now. Returns a stop function. */
export function watchIdentity(
  path: string,
  onReplaced: (error: WatcherDiedError) => void,
): () => void {
  const expected = identity(path);
  const timer = setInterval(() => {
    const found = identity(path);
    if (found === expected) return;
    clearInterval(timer);
    onReplaced(
      new WatcherDiedError(
        `The watcher died: the database file ${path} was replaced or removed ` +
          `(expected dev:ino ${expected}, found ${found ?? "no file"}); waits fall back to ` +
          "polling; close the Database and open it again",
      ),
    );
  }, IDENTITY_CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
