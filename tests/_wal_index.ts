/**
 * The WAL index header of a database file as `wake/shm_header.ts` reads it, for tests that
 * look at what the watcher sees.
 *
 * @module
 */

import assert from "node:assert/strict";
import { shmHeader, WAL_INDEX_HEADER_BYTES } from "../wake/shm_header.ts";

/** The first copy of `path`'s WAL index header (48 bytes); fails when it cannot be read. */
export function walIndexHeaderOf(path: string): Uint8Array {
  const header = shmHeader(path);
  assert.ok(header, `no WAL index header for ${path}`);
  const bytes = new Uint8Array(WAL_INDEX_HEADER_BYTES);
  assert.equal(header.read(bytes), true);
  return bytes;
}
