/**
 * The few libc calls the inotify source needs (Linux only), bound with Deno FFI or `bun:ffi`,
 * and the parser for the events `read()` returns; also, on Deno, a precise sleep for its
 * re-checks. Private to `wake/`.
 *
 * Why not `fs.watch` or `Deno.watchFs` on Deno: Deno's watcher opens and closes every file it
 * reports, and closing any descriptor of the database drops the POSIX locks SQLite holds on it
 * in this process (honker issue #80). Why not `fs.watch` on Bun: it drops an event reported
 * within a millisecond of another for the same file, so under load most commits raise none (see
 * `AFTER_CONFIRMED_MS` in `event_confirmer.ts`). inotify itself never opens the watched files, and
 * reports every write.
 *
 * Nothing here touches `Deno` or `bun:ffi` at import time.
 *
 * @module
 */

import process from "node:process";
import { bunPlatform } from "../../platform/ffi.ts";
import { runtimeKey } from "../../platform/runtime.ts";

/** inotify_init1 / eventfd flags. */
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

/** The events `fs.watch` (libuv) asks for on a directory: writes, creations, removals, moves. */
export const WATCH_MASK = 0x2 /* IN_MODIFY */ | 0x4 /* IN_ATTRIB */ | 0x40 /* IN_MOVED_FROM */ |
  0x80 /* IN_MOVED_TO */ | 0x100 /* IN_CREATE */ | 0x200 /* IN_DELETE */ |
  0x400 /* IN_DELETE_SELF */ | 0x800 /* IN_MOVE_SELF */;
/** The kernel dropped events: everything may have changed. */
export const IN_Q_OVERFLOW = 0x4000;
/** The directory itself went away (or was moved): the watch is gone. */
export const DIRECTORY_GONE = 0x400 /* IN_DELETE_SELF */ | 0x800 /* IN_MOVE_SELF */ |
  0x8000 /* IN_IGNORED */;

const SYMBOLS = {
  inotify_init1: { parameters: ["i32"], result: "i32" },
  inotify_add_watch: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  // Runs on a thread of Deno's blocking pool and resolves a promise: a sleep that overshoots by
  // about 0.2 ms, where Deno's timers overshoot by about 1 ms.
  usleep: { parameters: ["u32"], result: "i32", nonblocking: true },
} as const;

/** The bound libc functions. Integers come back as numbers, `isize` as bigint or number. */
export interface Libc {
  inotify_init1(flags: number): number;
  inotify_add_watch(fd: number, path: Uint8Array, mask: number): number;
  eventfd(initval: number, flags: number): number;
  poll(fds: Uint8Array, nfds: bigint | number, timeoutMs: number): number;
  read(fd: number, buffer: Uint8Array, count: bigint | number): bigint | number;
  write(fd: number, buffer: Uint8Array, count: bigint | number): bigint | number;
  close(fd: number): number;
  /**
   * Sleeps off the main thread; the promise resolves when the sleep ends. Deno only: bun:ffi
   * has no non-blocking call, and a blocking one would stop the event loop.
   */
  usleep?(microseconds: number): Promise<number>;
}

interface DenoLike {
  build: { os: string };
  dlopen(path: string, symbols: typeof SYMBOLS): { symbols: unknown };
}

let cached: Libc | undefined | null = null;

/**
 * libc, on Linux with glibc under Deno with FFI allowed, or under Bun; undefined otherwise (then
 * Deno polls and Bun uses `fs.watch`).
 */
export function loadLibc(): Libc | undefined {
  if (cached !== null) return cached;
  cached = undefined;
  try {
    cached = runtimeKey() === "deno" ? denoLibc() : runtimeKey() === "bun" ? bunLibc() : undefined;
  } catch {
    // No --allow-ffi, or not glibc.
  }
  return cached;
}

function denoLibc(): Libc | undefined {
  const deno = (globalThis as unknown as { Deno?: DenoLike }).Deno;
  if (typeof deno?.dlopen !== "function" || deno.build?.os !== "linux") return undefined;
  return deno.dlopen("libc.so.6", SYMBOLS).symbols as Libc;
}

function bunLibc(): Libc | undefined {
  if (process.platform !== "linux") return undefined;
  const { usleep: _, ...blocking } = SYMBOLS;
  return bunPlatform("watch the database with inotify").dlopen("libc.so.6", blocking) as Libc;
}

/** A NUL-terminated copy of `text`, for a `char *` parameter. */
export function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}

/** One parsed `struct inotify_event`. */
export interface InotifyEvent {
  mask: number;
  /** The file's name inside the watched directory; "" for events on the directory itself. */
  name: string;
}

const decoder = new TextDecoder();

/** Parses the `struct inotify_event` records in the first `length` bytes of `buffer`. */
export function parseInotifyEvents(buffer: Uint8Array, length: number): InotifyEvent[] {
  const view = new DataView(buffer.buffer, buffer.byteOffset, length);
  const events: InotifyEvent[] = [];
  // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[]; }
  for (let at = 0; at + 16 <= length;) {
    const mask = view.getUint32(at + 4, true);
    const nameLength = view.getUint32(at + 12, true);
    const raw = buffer.subarray(at + 16, at + 16 + nameLength);
    const end = raw.indexOf(0);
    events.push({ mask, name: decoder.decode(end === -1 ? raw : raw.subarray(0, end)) });
    at += 16 + nameLength;
  }
  return events;
}
