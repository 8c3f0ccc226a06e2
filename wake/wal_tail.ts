/**
 * Whether a commit is being written to the WAL right now, read from the `-wal` file without a
 * statement: the frame just past the last committed one (the WAL index header's `mxFrame`) is
 * written before the commit is visible, and it carries the WAL's current salts. A frame there
 * with the header's salts is a commit in progress (or one finished since the header was read);
 * anything else (the end of the file, a frame left from before the WAL restarted, whose salts
 * are older) means nothing is being written.
 *
 * A file-system event that shows no new commit uses this to tell "a commit is on its way, look
 * again in a moment" from "the event was for a commit already seen, or a checkpoint": one commit
 * raises several `-wal` events, and all but the first used to start a spin and a chain of timed
 * re-checks (`sources/event_confirmer.ts`) that could only find nothing.
 *
 * The descriptor is this module's own, closed when its Database closes. SQLite takes no POSIX
 * lock on the `-wal` file (its locks are on the database file and the `-shm`), so closing it
 * cannot drop one, unlike a descriptor of the `-shm` (`shm_header.ts`). SQLite deletes `-wal`
 * only with the database's exclusive lock, which it cannot get while the Database this reader
 * belongs to holds its connection open.
 *
 * @module
 */

import { closeSync, openSync, readSync } from "node:fs";
import {
  committedFrames,
  sideFilePath,
  WAL_INDEX_SALT_OFFSET,
  walPageBytes,
} from "./shm_header.ts";

/** A WAL frame's header: page number, commit size, two salts, two checksums (big-endian). */
const FRAME_HEADER_BYTES = 24;
/** The WAL file's own header, before the first frame. */
const WAL_HEADER_BYTES = 32;
/** Where a frame header keeps the WAL's salts (bytes 8–15): every frame of a commit has them. */
const FRAME_SALT_OFFSET = 8;
const SALT_BYTES = 8;

/** Reads the frame past the last commit of one database's WAL. */
export interface WalTail {
  /**
   * Whether a frame with the WAL's current salts lies just past the last commit the WAL index
   * header `header` (48 bytes, as `shm_header.ts` reads it) shows: true, a commit is being
   * written (or was since `header` was read); false, nothing is; undefined when the file cannot
   * be read, and the caller must assume a commit may be on its way.
   */
  pending(header: Uint8Array): boolean | undefined;
  /** Closes the descriptor; `pending()` answers undefined from then on. */
  close(): void;
}

/**
 * A reader of the `-wal` beside the database at `path`, or undefined where there is none to
 * read (an in-memory database, a URI filename, Windows, which may refuse to delete a file held
 * open). The file is opened at the first `pending()`: a database not yet in WAL mode has none.
 */
export function walTail(path: string): WalTail | undefined {
  const walPath = sideFilePath(path, "-wal");
  return walPath === undefined ? undefined : new Tail(walPath);
}

class Tail implements WalTail {
  readonly #walPath: string;
  #fd: number | undefined;
  #closed = false;
  readonly #salts = new Uint8Array(SALT_BYTES);

  constructor(walPath: string) {
    this.#walPath = walPath;
  }

  pending(header: Uint8Array): boolean | undefined {
    const fd = this.#open();
    if (fd === undefined) return undefined;
    const frames = committedFrames(header);
    const pageBytes = frames === 0 ? 0 : walPageBytes(header);
    if (pageBytes === undefined) return undefined;
    const frame = WAL_HEADER_BYTES + frames * (FRAME_HEADER_BYTES + pageBytes);
    let got: number;
    try {
      got = readSync(fd, this.#salts, 0, SALT_BYTES, frame + FRAME_SALT_OFFSET);
    } catch {
      return undefined;
    }
    if (got < SALT_BYTES) return false; // The file ends at the last commit.
    for (let i = 0; i < SALT_BYTES; i++) {
      if (this.#salts[i] !== header[WAL_INDEX_SALT_OFFSET + i]) return false;
    }
    return true;
  }

  close(): void {
    this.#closed = true;
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // Already closed.
    }
    this.#fd = undefined;
  }

  #open(): number | undefined {
    if (this.#fd !== undefined || this.#closed) return this.#fd;
    try {
      this.#fd = openSync(this.#walPath, "r");
    } catch {
      // Not there yet (no commit in WAL mode so far): tried again at the next event.
    }
    return this.#fd;
  }
}
