/**
 * The life of a torture role process, the same on Node, Deno and Bun:
 *
 * ```sh
 * <runtime> tests/torture/<role>.ts <db> <name> <config JSON>
 * ```
 *
 * It opens the database (with the config's `busyTimeoutMs`, as an application that shares its
 * file with slow writers would), prints `ready`, starts on the first line on stdin, stops when stdin
 * ends (so a driver that dies takes its roles with it), closes the database and prints one
 * JSON line of what it did. It must then exit by itself: a process that lingers after `close()`
 * is kept alive by something the database left behind.
 *
 * @module
 */

import { writeSync } from "node:fs";
import process from "node:process";
import { open } from "../../mod.ts";
import type { Database } from "../../mod.ts";

/** What a role gets to work with. */
export interface RoleContext<C> {
  db: Database;
  /** Unique across the run, e.g. `deno-worker-2`. */
  name: string;
  config: C;
  /** Aborts when stdin ends. */
  signal: AbortSignal;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes a line to stdout before returning (a pipe may be non-blocking: wait out EAGAIN). */
export function say(line: string): void {
  const bytes = new TextEncoder().encode(`${line}\n`);
  let written = 0;
  while (written < bytes.length) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function waitForGo(stop: AbortController): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.setEncoding("utf8");
    process.stdin.once("data", () => resolve());
    process.stdin.on("data", () => {});
    process.stdin.on("end", () => {
      stop.abort();
      resolve();
    });
  });
}

/**
 * Runs `body` as a role: open, `ready`, wait for go, run until stdin ends, close, print the
 * JSON `body` resolved with. Any error is printed and exits 1 (the driver reports it).
 */
export async function runRole<C, R>(body: (ctx: RoleContext<C>) => Promise<R>): Promise<void> {
  const [path, name, configJson] = process.argv.slice(2);
  try {
    const config = JSON.parse(configJson ?? "{}");
    const db = await open(path, { busyTimeoutMs: config.busyTimeoutMs });
    const stop = new AbortController();
    say("ready");
    await waitForGo(stop);
    const result = await body({ db, name, config, signal: stop.signal });
    db.close();
    say(JSON.stringify({ done: name, pid: process.pid, ...result }));
    process.stdin.pause();
  } catch (error) {
    process.stderr.write(`${name} failed: ${(error as Error)?.stack ?? error}\n`);
    process.exit(1);
  }
}
