/**
 * The worker thread behind the inotify source (Deno, Bun): blocks in `poll()` on an inotify
 * descriptor watching the database's directory (and on an eventfd the main thread writes to
 * stop it), and reports events for the database's own files through a SharedArrayBuffer, so the
 * main thread learns of them from `Atomics.waitAsync` without any timer. Events on unrelated
 * files in the directory never wake the main thread.
 *
 * @module
 */

import { workerData } from "node:worker_threads";
import {
  cString,
  DIRECTORY_GONE,
  IN_Q_OVERFLOW,
  loadLibc,
  O_CLOEXEC,
  O_NONBLOCK,
  parseInotifyEvents,
  WATCH_MASK,
} from "./libc_inotify.ts";
import type { Libc } from "./libc_inotify.ts";
import { SLOT, TICK_DELAYS_MS } from "./inotify_protocol.ts";
import type { InotifyWorkerData } from "./inotify_protocol.ts";

const POLLIN = 1;
const READ_BUFFER_BYTES = 64 * 1024;
/** poll() failing this many times in a row (not EINTR) means something is broken. */
const POLL_FAILURES_MAX = 100;

function main(data: InotifyWorkerData): void {
  const flags = new Int32Array(data.shared);
  const libc = loadLibc();
  if (libc === undefined) return fail(flags);
  const fd = libc.inotify_init1(O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(flags);
  try {
    if (libc.inotify_add_watch(fd, cString(data.directory), WATCH_MASK) < 0) return fail(flags);
    Atomics.store(flags, SLOT.READY, 1);
    signal(flags);
    if (!reportEvents(libc, fd, data, flags)) fail(flags);
  } finally {
    libc.close(fd); // Our own inotify descriptor only: never one of the database's files.
  }
}

/** Bumps the counter the main thread waits on. */
function signal(flags: Int32Array): void {
  Atomics.add(flags, SLOT.COUNTER, 1);
  Atomics.notify(flags, SLOT.COUNTER);
}

/** Tells the main thread the watch could not be set up or was lost. */
function fail(flags: Int32Array): void {
  Atomics.store(flags, SLOT.FAILED, 1);
  signal(flags);
}

/**
 * Blocks in poll() and reports the events for the database's files until the stop flag is set;
 * while the paused flag is set it polls the stop eventfd alone (the main thread nudges it to
 * resume). Returns false when the watch failed: the directory went away, or poll() kept failing.
 */
function reportEvents(libc: Libc, fd: number, data: InotifyWorkerData, flags: Int32Array): boolean {
  const pollFds = pollFdsOf(fd, data.stopFd);
  const stopOnly = pollFds.slice(8);
  const nudge = new Uint8Array(8);
  const drain = eventDrainer(libc, fd, data, flags);
  let failures = 0;
  while (Atomics.load(flags, SLOT.STOP) === 0) {
    const paused = Atomics.load(flags, SLOT.PAUSED) !== 0;
    if (libc.poll(paused ? stopOnly : pollFds, paused ? 1 : 2, -1) < 0) {
      if (++failures >= POLL_FAILURES_MAX) return false;
      continue; // EINTR
    }
    failures = 0;
    if (Atomics.load(flags, SLOT.STOP) !== 0) break;
    // A resume's nudge: clear the eventfd (non-blocking), or every poll() would return at once.
    if (pollinOf(paused ? stopOnly : pollFds.subarray(8))) libc.read(data.stopFd, nudge, 8);
    // Paused, or paused while this poll() waited: the events wait in the kernel's queue.
    if (Atomics.load(flags, SLOT.PAUSED) !== 0) continue;
    const relevant = drain();
    if (relevant === "gone") return false;
    if (relevant) {
      Atomics.store(flags, SLOT.TICKING, 1);
      signal(flags);
      tick(flags);
    }
  }
  return true;
}

/**
 * Bumps the counter at each of TICK_DELAYS_MS while the main thread has not yet seen the commit
 * (it clears `TICKING` then, seen here at the next tick, or at once when it also notifies: it
 * does when the WAL shows no commit being written). Events arriving meanwhile wait in the inotify
 * queue for the next poll(), at most 1.6 ms: each tick makes the main thread look anyway.
 */
function tick(flags: Int32Array): void {
  for (const delayMs of TICK_DELAYS_MS) {
    if (Atomics.wait(flags, SLOT.TICKING, 1, delayMs) !== "timed-out") return;
    if (Atomics.load(flags, SLOT.TICKING) === 0 || Atomics.load(flags, SLOT.STOP) !== 0) return;
    signal(flags);
  }
}

/** Whether one struct pollfd's revents has POLLIN. */
function pollinOf(pollFd: Uint8Array): boolean {
  return (new DataView(pollFd.buffer, pollFd.byteOffset, 8).getInt16(6, true) & POLLIN) !== 0;
}

/** struct pollfd { int fd; short events; short revents; } × 2: inotify, then the stop eventfd. */
function pollFdsOf(fd: number, stopFd: number): Uint8Array {
  const pollFds = new Uint8Array(16);
  const view = new DataView(pollFds.buffer);
  view.setInt32(0, fd, true);
  view.setInt16(4, POLLIN, true);
  view.setInt32(8, stopFd, true);
  view.setInt16(12, POLLIN, true);
  return pollFds;
}

/**
 * Reads every pending event (until EAGAIN) and records the database's in the slots. The
 * function it returns says whether the main thread must look, or "gone" when the directory is.
 */
function eventDrainer(
  libc: Libc,
  fd: number,
  data: InotifyWorkerData,
  flags: Int32Array,
): () => boolean | "gone" {
  const ours = new Set(data.names);
  const databaseFile = data.names[0];
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  return () => {
    let relevant = false;
    for (;;) {
      const got = Number(libc.read(fd, buffer, buffer.length));
      if (got <= 0) break; // EAGAIN: drained.
      for (const event of parseInotifyEvents(buffer, got)) {
        if (event.mask & DIRECTORY_GONE) return "gone";
        if (event.mask & IN_Q_OVERFLOW) relevant = true;
        else if (event.name === data.probeName) {
          Atomics.store(flags, SLOT.PROBE_SEEN, 1);
          relevant = true;
        } else if (ours.has(event.name)) {
          if (event.name === databaseFile) Atomics.add(flags, SLOT.DATABASE_FILE, 1);
          relevant = true;
        }
      }
    }
    return relevant;
  };
}

main(workerData as InotifyWorkerData);
