/**
 * honker's own update watcher, through its loadable extension's SQL functions on a node:sqlite
 * connection: the yardstick the wake benchmark compares honker-ts against.
 *
 * @module
 */

import { extPlatformSkip, loadHonkerExt } from "../tests/_honker_ext.ts";

/** An open honker update watcher on its own connection. */
export interface ExtWatcher {
  /** `honker_update_watcher_wait`: 1 on an update, 0 on timeout, −1 closed or dead. Blocks. */
  wait(timeoutMs: number): number;
  /** The largest job id in `_honker_live`, read on the watcher's connection. */
  maxId(): number;
  /** Closes the watcher and the connection. */
  close(): void;
}

/** Loads the extension into a new node:sqlite connection on `path` and opens a polling watcher. */
export async function openExtWatcher(path: string): Promise<ExtWatcher> {
  const skip = extPlatformSkip();
  if (skip) throw new Error(skip);
  const db = await loadHonkerExt(path);
  try {
    const opened = db.prepare("SELECT honker_update_watcher_open(?, 'polling') AS id").get(path);
    const id = Number(opened?.id);
    const waitStmt = db.prepare("SELECT honker_update_watcher_wait(?, ?) AS r");
    const maxStmt = db.prepare("SELECT coalesce(max(id), 0) AS id FROM _honker_live");
    return {
      wait: (timeoutMs) => Number(waitStmt.get(BigInt(id), BigInt(timeoutMs))?.r),
      maxId: () => Number(maxStmt.get()?.id),
      close: () => {
        db.prepare("SELECT honker_update_watcher_close(?)").get(BigInt(id));
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
