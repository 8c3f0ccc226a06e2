/**
 * A look at the database's WAL index header without a statement: the first 48 bytes of the
 * `-shm` file, which SQLite rewrites (through mmap) at every commit and every WAL reset, the
 * copy readers trust written last. The same bytes as before mean nobody committed since; a
 * `pread` costs 1.5–2.6 µs where `PRAGMA data_version` costs 20–35 µs and is a statement. The
 * change probe (`version_probe.ts`) asks the header first.
 *
 * The descriptor is never closed while the file can still be in use. POSIX releases every lock a
 * process holds on a file when *any* descriptor of it is closed: closing ours would drop the
 * locks SQLite's own connections in this process hold on the `-shm` (among them the one that
 * says a connection is alive), whichever library opened them. So descriptors live in one
 * registry per process, shared by every Database on the file, and one is closed only once its
 * file is unlinked (SQLite deletes `-shm` when the last connection closes): no connection can
 * lock that file again. The registry holds at most MAX_OPEN_HEADERS files; past that, probes
 * ask SQLite.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";

/** Bytes of the WAL index header's first copy, the one SQLite writes last. */
export const WAL_INDEX_HEADER_BYTES = 48;

/**
 * At most this many `-shm` files are held open (one descriptor each) in a process; a Database
 * opened past it probes with `data_version` alone. An application with one database per tenant
 * holds each of them open anyway (three descriptors per connection).
 */
export const MAX_OPEN_HEADERS = 256;

/**
 * The header's `iChange`: SQLite's count of commits (32 bits, wrapping), to which it adds one at
 * every commit and at nothing else.
 */
export function commitCount(header: Uint8Array): number {
  return headerWord(header, 8);
}

/** The header's `mxFrame`: how many frames of the WAL are committed. */
export function committedFrames(header: Uint8Array): number {
  return headerWord(header, 16);
}

/**
 * The page size the header records (bytes 14–15, where 1 stands for 65,536), or undefined when
 * it records none yet (0).
 */
export function walPageBytes(header: Uint8Array): number | undefined {
  const field = new DataView(header.buffer, header.byteOffset, header.byteLength)
    .getUint16(14, LITTLE_ENDIAN);
  if (field === 0) return undefined;
  return field === 1 ? 65536 : field;
}

/** Where the header keeps the WAL's two salts (8 bytes, copied as they are in the WAL file). */
export const WAL_INDEX_SALT_OFFSET = 32;

/** Whether `after` continues `before`'s WAL: the same salts and more frames (`mxFrame`). */
export function sameWal(before: Uint8Array, after: Uint8Array): boolean {
  for (let i = WAL_INDEX_SALT_OFFSET; i < WAL_INDEX_SALT_OFFSET + 8; i++) {
    if (before[i] !== after[i]) return false;
  }
  return committedFrames(after) > committedFrames(before);
}

/** Whether this machine stores integers little-end first, as the WAL index header then does. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The header's 32-bit field at byte `offset`, in the machine's own byte order (the `-shm` file is
 * never moved between machines).
 */
function headerWord(header: Uint8Array, offset: number): number {
  return new DataView(header.buffer, header.byteOffset, header.byteLength)
    .getUint32(offset, LITTLE_ENDIAN);
}

/** Reads the WAL index header of one database. */
export interface ShmHeader {
  /**
   * Reads the header into `into` (48 bytes); false when it cannot be read (the file is gone or
   * too short), and the caller must ask SQLite.
   */
  read(into: Uint8Array): boolean;
  /**
   * Its Database closed: once the current synchronous close is over (its connection closed, and
   * the file deleted when it was the last), the descriptor is closed if its file is gone.
   */
  release(): void;
}

interface Open {
  readonly fd: number;
  readonly ino: number;
  /** Set when the sweep closed `fd`: its number may since name another file. */
  closed: boolean;
  /** Header reads through this descriptor (tests count what the watcher looks at). */
  reads: number;
}

/** One descriptor per `-shm` file in this process, by path (a replaced file's by path + inode). */
const registry = new Map<string, Open>();
/** The registry's size after the last sweep: the next one runs when it has doubled. */
let sweptAt = 0;

/**
 * A header reader for the database at `path`, or undefined when its `-shm` cannot be opened
 * (not in WAL mode, an in-memory database, no permission, too many open).
 */
export function shmHeader(path: string): ShmHeader | undefined {
  const shmPath = sideFilePath(path, "-shm");
  if (shmPath === undefined) return undefined;
  const open = current(shmPath);
  if (open === undefined) return undefined;
  return {
    read(into) {
      // Closed only once unlinked: under a live connection that is a file deleted by hand, and
      // the connection no longer shares a header with anyone. SQLite answers from here on.
      if (open.closed) return false;
      open.reads++;
      try {
        return readSync(open.fd, into, 0, WAL_INDEX_HEADER_BYTES, 0) === WAL_INDEX_HEADER_BYTES;
      } catch {
        return false;
      }
    },
    release() {
      queueMicrotask(() => {
        if (!closeIfUnlinked(open)) return;
        for (const [key, held] of registry) if (held === open) registry.delete(key);
      });
    },
  };
}

/**
 * The path of the database at `path`'s `-shm` or `-wal` file (`suffix`), resolved now, against
 * the directory SQLite resolved it against at open; undefined where no such file is read here:
 * an in-memory database, a URI filename, or Windows, which keeps its own locks per handle and may
 * refuse to delete a file held open.
 */
export function sideFilePath(path: string, suffix: "-shm" | "-wal"): string | undefined {
  if (process.platform === "win32") return undefined;
  if (path === "" || path === ":memory:" || path.startsWith("file:")) return undefined;
  return `${resolve(path)}${suffix}`;
}

/**
 * The registry's descriptor for the file now at `shmPath`, opened when there is none or the file
 * was replaced; undefined when it cannot be opened.
 */
function current(shmPath: string): Open | undefined {
  let ino: number;
  try {
    ino = statSync(shmPath).ino;
  } catch {
    return undefined;
  }
  const known = registry.get(shmPath);
  if (known?.ino === ino && !known.closed) return known;
  if (registry.size >= Math.max(16, 2 * sweptAt)) sweepUnlinked();
  if (registry.size >= MAX_OPEN_HEADERS) return undefined;
  let fd: number;
  try {
    fd = openSync(shmPath, "r");
  } catch {
    return undefined;
  }
  // A replaced file's old descriptor stays open until the old file is unlinked (the sweep).
  if (known !== undefined && !closeIfUnlinked(known)) {
    registry.set(`${shmPath}\0${known.ino}`, known);
  }
  const open: Open = { fd, ino: fstatSync(fd).ino, closed: false, reads: 0 };
  registry.set(shmPath, open);
  return open;
}

/** Closes the descriptors whose file no longer has a name: no connection can lock it again. */
function sweepUnlinked(): void {
  for (const [key, open] of registry) if (closeIfUnlinked(open)) registry.delete(key);
  sweptAt = registry.size;
}

/** Closes `open`'s descriptor when its file was unlinked (or it is closed); true when it is. */
function closeIfUnlinked(open: Open): boolean {
  if (open.closed) return true;
  try {
    if (fstatSync(open.fd).nlink > 0) return false;
  } catch {
    // A descriptor fstat refuses is of no use either.
  }
  open.closed = true;
  try {
    closeSync(open.fd);
  } catch {
    // Already closed.
  }
  return true;
}

/** How many `-shm` descriptors this process holds, after closing those of unlinked files. */
export function openShmHeaders(): number {
  sweepUnlinked();
  return registry.size;
}

/** How many times this process read the WAL index header of the database at `path` (tests). */
export function shmHeaderReads(path: string): number {
  return registry.get(`${resolve(path)}-shm`)?.reads ?? 0;
}
