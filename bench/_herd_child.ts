/**
 * The herd benchmark's child processes (`herd_bench.ts`):
 *
 * ```sh
 * <runtime> bench/_herd_child.ts produce <db> <ratePerS>
 * <runtime> bench/_herd_child.ts bystander <db> <concurrency>
 * ```
 *
 * - `produce` opens the file (creating honker's schema), answers `ready`, and on `go` enqueues
 *   to the queue `busy` at `ratePerS` autocommit enqueues a second until `stop`, then answers
 *   with how many it made.
 * - `bystander` runs `work()` on the queue `idle`, which nobody enqueues to, on a Database built
 *   as `open()` builds it over a driver that counts statements; `mark` starts counting its CPU
 *   and statements, `report` answers with them since the mark, `exit` stops it.
 *
 * Named without `_test` so that `deno test` and `bun test` do not pick it up.
 *
 * @module
 */

import process from "node:process";
import { open } from "../mod.ts";
import { Database } from "../core/database.ts";
import { startWatcher } from "../wake/watcher.ts";
import { unrefTimer } from "../platform/timers.ts";
import { openDriver } from "../adapters/auto.ts";
import { countingDriver } from "./_peers_counting.ts";
import { cpuMs, onCommands, send, sendAndExit, sleep } from "./_wake_common.ts";

const [role, path, arg] = process.argv.slice(2);

/** Enqueues at `ratePerS` on its own schedule (no drift), until `stopped()`; returns how many. */
async function enqueueAt(ratePerS: number, stopped: () => boolean): Promise<number> {
  const db = await open(path, { wake: "poll" }); // never waits: starts no watcher
  const queue = db.queue<{ n: number }>("busy");
  const start = performance.now();
  let sent = 0;
  while (!stopped()) {
    queue.enqueue({ n: sent++ });
    const due = start + (sent * 1000) / ratePerS - performance.now();
    if (due > 0) await sleep(due);
  }
  db.close();
  return sent;
}

async function produce(ratePerS: number): Promise<void> {
  (await open(path, { wake: "poll" })).close(); // honker's schema, before the bystander opens
  let stopped = false;
  let sending: Promise<number> = Promise.resolve(0);
  onCommands((command) => {
    if (command === "go") sending = enqueueAt(ratePerS, () => stopped);
    else if (command === "stop") {
      stopped = true;
      void sending.then((sent) => sendAndExit({ sent }));
    }
  });
  send({ ready: true });
}

async function bystander(concurrency: number): Promise<void> {
  const driver = countingDriver(await openDriver(path));
  const db = new Database(driver, {
    ownsDriver: true,
    startWatcher: (waker, connection) => startWatcher(waker, connection, {}),
    unrefTimer,
  });
  const stop = new AbortController();
  const working = db.queue("idle").work(() => {}, { concurrency, signal: stop.signal });
  let cpuAtMark = 0;
  let wallAtMark = 0;
  onCommands((command) => {
    if (command === "mark") {
      driver.resetCount();
      cpuAtMark = cpuMs();
      wallAtMark = performance.now();
    } else if (command === "report") {
      send({
        cpuMs: cpuMs() - cpuAtMark,
        wallMs: performance.now() - wallAtMark,
        statements: driver.statements,
      });
    } else if (command === "exit") {
      stop.abort();
      void working.finally(() => (db.close(), sendAndExit({ bye: true })));
    }
  });
  await sleep(300); // its watcher is in place (the inotify worker starts asynchronously)
  send({ ready: true });
}

if (role === "produce") await produce(Number(arg));
else if (role === "bystander") await bystander(Number(arg));
else throw new TypeError(`Cannot run the herd child: unknown role "${role}"`);
