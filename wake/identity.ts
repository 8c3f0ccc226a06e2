/**
 * Notices the database file being replaced under us (rename-over, restore, deletion) by its
 * (dev, ino), read with stat(): never open() or close() the database file ourselves, since closing
 * any descriptor on an inode drops every POSIX lock the process holds on it (honker issue #80).
 *
 * @module
 */

import { statSync } from "node:fs";
import { WatcherDiedError } from "../core/db/errors.ts";

function identity(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Remembers the file's identity now; the returned check gives a WatcherDiedError once the path
 * is no longer that file, else undefined. The caller decides how often to ask (a stat costs a
 * few microseconds, but every timer wake-up costs idle CPU).
 */
export function identityCheck(path: string): () => WatcherDiedError | undefined {
  const expected = identity(path);
  return () => {
    const found = identity(path);
    if (found === expected) return undefined;
    return new WatcherDiedError(
      `The watcher died: the database file ${path} was replaced or removed ` +
        `(expected dev:ino ${expected}, found ${found ?? "no file"}); waits fall back to ` +
        "polling; close the Database and open it again",
    );
  };
}
