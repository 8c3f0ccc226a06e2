// The inotify worker (Deno, Bun) re-signals the main thread at sub-millisecond delays after an event
// until the main thread has seen the commit (wake/sources/inotify_worker.ts): a `-wal` event
// arrives before the commit is visible, and Deno's main thread cannot sleep that briefly.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { loadLibc, O_CLOEXEC, O_NONBLOCK } from "../wake/sources/libc_inotify.ts";
import { SLOT, SLOT_COUNT, TICK_DELAYS_MS } from "../wake/sources/inotify_protocol.ts";
import type { InotifyWorkerData } from "../wake/sources/inotify_protocol.ts";
import { openCountingProbes } from "./_probes.ts";
import { sleep, tempDbPath } from "./_helpers.ts";
import { inotifySkipReason } from "./_inotify.ts";

const inotifySkip = inotifySkipReason();

/** Resolves once `flags[slot]` differs from `seen`, within `timeoutMs`. */
async function changed(flags: Int32Array, slot: number, seen: number, timeoutMs: number) {
  const result = Atomics.waitAsync(flags, slot, seen, timeoutMs);
  if (result.async) await result.value;
  return Atomics.load(flags, slot);
}

/** The worker watching `path`'s directory, the shared slots, and how to stop it. */
async function startTickingWorker(path: string) {
  const libc = loadLibc()!;
  const stopFd = libc.eventfd(0, O_NONBLOCK | O_CLOEXEC);
  const shared = new SharedArrayBuffer(4 * SLOT_COUNT);
  const flags = new Int32Array(shared);
  const base = basename(path);
  const data: InotifyWorkerData = {
    directory: dirname(path),
    names: [base, `${base}-wal`, `${base}-journal`],
    probeName: ".none",
    stopFd,
    shared,
  };
  const url = new URL("../wake/sources/inotify_worker.ts", import.meta.url);
  const worker = new Worker(url, { workerData: data });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  await changed(flags, SLOT.COUNTER, 0, 5_000); // the worker signals once its watch is ready
  assert.equal(Atomics.load(flags, SLOT.READY), 1, "the watch is in place");
  const stop = async () => {
    Atomics.store(flags, SLOT.STOP, 1);
    Atomics.store(flags, SLOT.TICKING, 0);
    Atomics.notify(flags, SLOT.TICKING);
    const one = new Uint8Array(8);
    one[0] = 1;
    libc.write(stopFd, one, 8);
    await exited;
    libc.close(stopFd);
  };
  return { flags, stop };
}

describe("inotify worker ticks", () => {
  it("re-signals at each tick delay after an event while the commit is unseen", {
    skip: inotifySkip,
    timeout: 30_000,
  }, async () => {
    const path = tempDbPath();
    const { flags, stop } = await startTickingWorker(path);
    try {
      const before = Atomics.load(flags, SLOT.COUNTER);
      writeFileSync(`${path}-wal`, "x");
      await sleep(100); // the ticks take 1.6 ms; the main thread never clears TICKING here
      const signals = Atomics.load(flags, SLOT.COUNTER) - before;
      // The file's creation and write may come in one batch or two: each is signalled, then ticked.
      assert.ok(signals >= 1 + TICK_DELAYS_MS.length, `${signals} signals`);
    } finally {
      await stop();
    }
  });

  it("stops ticking once the main thread has seen the commit", {
    skip: inotifySkip,
    timeout: 30_000,
  }, async () => {
    const path = tempDbPath();
    // The file exists before the watch, so that the write below raises one event (IN_MODIFY).
    // Created by that write, it raised two (IN_CREATE, IN_MODIFY) that could come in two batches:
    // the second, after TICKING was cleared, started ticking again.
    writeFileSync(`${path}-wal`, "");
    const { flags, stop } = await startTickingWorker(path);
    try {
      const before = Atomics.load(flags, SLOT.COUNTER);
      appendFileSync(`${path}-wal`, "x");
      await changed(flags, SLOT.COUNTER, before, 5_000);
      // What InotifySource does when a probe confirms the commit (no notify: the worker sees
      // it at its next tick).
      Atomics.store(flags, SLOT.TICKING, 0);
      const atClear = Atomics.load(flags, SLOT.COUNTER);
      await sleep(100);
      // At most one tick already past its wait when TICKING was cleared.
      const late = Atomics.load(flags, SLOT.COUNTER) - atClear;
      assert.ok(late <= 1, `${late} signals after TICKING was cleared`);
    } finally {
      await stop();
    }
  });
});

describe("inotify ticks and our own writes", () => {
  it("an event from this process's own commit is not re-checked at sub-millisecond ticks", {
    skip: inotifySkip,
    timeout: 30_000,
  }, async () => {
    const { db, probes: probesSoFar } = await openCountingProbes(tempDbPath(), {
      wake: "fs",
      backstopPollMs: 3_600_000,
    });
    const stop = new AbortController();
    try {
      void db.updates({ signal: stop.signal }).next(); // the watcher starts at the first wait
      await sleep(300); // the worker's watch is in place
      const queue = db.queue("own");
      const before = probesSoFar();
      const writes = 10;
      for (let i = 0; i < writes; i++) {
        await queue.enqueue({ i });
        await sleep(40); // every re-check of this write's events is over
      }
      // One commit raises a few events; each is probed, then re-checked on the main thread's
      // own chain (setImmediate, 1, 2, 4, 8, 16 ms). Ticking them too made it over 16 each.
      const probes = probesSoFar() - before;
      assert.ok(probes > 0, "the probes are counted"); // a count of nothing would prove nothing
      assert.ok(probes / writes <= 12, `${(probes / writes).toFixed(1)} probes per own commit`);
    } finally {
      stop.abort();
      db.close();
    }
  });
});
