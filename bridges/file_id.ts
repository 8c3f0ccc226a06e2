/**
 * The file's stable id: a random UUID stored in the file the first time a bridge asks, so that
 * message ids made from it (`<file id>:<topic>:<offset>`) stay the same across restarts and
 * processes, and differ between files. A copy of the file (a restored backup serving beside the
 * original) keeps the id: give a copy that goes on publishing its own id with `resetFileId()`.
 *
 * @module
 */

import type { Database } from "../mod.ts";
import { FILE_ID_CREATE, FILE_ID_GET, FILE_ID_INSERT } from "./sql.ts";

/**
 * The file's stable id, created on first use.
 *
 * @example Name this file in messages
 * ```ts ignore
 * const id = fileId(db); // "3b0c…", the same every time on this file
 * ```
 */
export function fileId(db: Database): string {
  const existing = readFileId(db);
  if (existing !== undefined) return existing;
  return db.transaction((tx) => {
    tx.exec(FILE_ID_CREATE);
    tx.run(FILE_ID_INSERT, [crypto.randomUUID()]);
    return tx.get<{ id: string }>(FILE_ID_GET)!.id;
  });
}

function readFileId(db: Database): string | undefined {
  try {
    return db.driver.get<{ id: string }>(FILE_ID_GET)?.id;
  } catch {
    return undefined; // no table yet
  }
}

/**
 * Gives the file a new id, for a copy that must publish as a different source than its original.
 * Returns the new id.
 *
 * @example After restoring a backup beside the original
 * ```ts ignore
 * resetFileId(restored);
 * ```
 */
export function resetFileId(db: Database): string {
  return db.transaction((tx) => {
    tx.exec(FILE_ID_CREATE);
    tx.run("DELETE FROM _honker_ts_file_id");
    tx.run(FILE_ID_INSERT, [crypto.randomUUID()]);
    return tx.get<{ id: string }>(FILE_ID_GET)!.id;
  });
}
