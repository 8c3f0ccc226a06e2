/**
 * Auto mode's check that file-system events arrive in the database's directory: a scratch file
 * written and removed beside the database must raise an event within FS_PROBE_TIMEOUT_MS, or
 * the watcher falls back to polling (a network or FUSE file system may raise none).
 *
 * @module
 */

import { unlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout } from "node:timers";

/** How long auto mode waits for the probe file's event before falling back to polling. */
export const FS_PROBE_TIMEOUT_MS = 1000;

/**
 * Writes and removes a scratch file beside the database (never the database itself) and calls
 * `fallBack` with why when its event has not arrived within FS_PROBE_TIMEOUT_MS.
 */
export function verifyFsEvents(
  name: string,
  dbPath: string,
  seen: () => boolean,
  fallBack: (why: string) => void,
): void {
  const file = join(dirname(dbPath), name);
  try {
    writeFileSync(file, "");
    unlinkSync(file);
  } catch (error) {
    fallBack(`cannot be checked (writing a probe file failed: ${(error as Error)?.message})`);
    return;
  }
  const timer = setTimeout(() => {
    if (!seen()) fallBack(`did not arrive within ${FS_PROBE_TIMEOUT_MS} ms`);
  }, FS_PROBE_TIMEOUT_MS);
  timer.unref();
}
