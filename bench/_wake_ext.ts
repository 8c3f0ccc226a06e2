/**
 * honker's own update watcher, through its loadable extension's SQL functions on a node:sqlite
 * connection: the yardstick the wake benchmark compares honker-ts against.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { arch, platform } from "node:os";
import { fileURLToPath } from "node:url";

/** Where npm puts honker's extension for linux x64 (glibc). */
export const HONKER_EXT_PATH: string = fileURLToPath(
  new URL(
    "../node_modules/@russellthehippo/honker-ext-linux-x64-gnu/libhonker_ext.so",
    import.meta.url,
  ),
);

/** An open honker update watcher on its own connection. */
export interface ExtWatcher {
  /** `honker_update_watcher_wait`: 1 on an update, 0 on timeout, −1 closed or dead. Blocks. */
  wait(timeoutMs: number): number;
  /** The largest job id in `_honker_live`, read on the watcher's connection. */
  maxId(): number;
  /** Closes the watcher and the connection. */
  close(): void;
}

interface StatementLike {
  get(...params: Array<number | bigint | string>): Record<string, unknown> | undefined;
}

interface ExtDatabaseLike {
  prepare(sql: string): StatementLike;
  loadExtension(path: string): void;
  close(): void;
}

interface NodeSqliteLike {
  DatabaseSync: new (
    path: string,
    options: { allowExtension: boolean; timeout: number },
  ) => ExtDatabaseLike;
}

/** Why the extension cannot be used here, or undefined when it can. */
export function extSkipReason(): string | undefined {
  if (platform() !== "linux" || arch() !== "x64") {
    return `honker's extension package is linux-x64-gnu only (this is ${platform()}-${arch()})`;
  }
  if (!existsSync(HONKER_EXT_PATH)) return `honker's extension is not installed`;
  return undefined;
}

/** Loads the extension into a new node:sqlite connection on `path` and opens a polling watcher. */
export async function openExtWatcher(path: string): Promise<ExtWatcher> {
  const skip = extSkipReason();
  if (skip) throw new Error(skip);
  const { DatabaseSync } = (await import("node:sqlite")) as unknown as NodeSqliteLike;
  const db = new DatabaseSync(path, { allowExtension: true, timeout: 5000 });
  try {
    db.loadExtension(HONKER_EXT_PATH);
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
