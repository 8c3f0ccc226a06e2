// No leaks (issue "Reliability", item 6): 10,000 claim(), listen(), subscribe() and updates()
// waits, each started and aborted, leave no timer, waiter, listener, descriptor, thread or heap
// behind; close() stops the poll worker thread; a process with an idle Database exits by itself.
//
// What each runtime lets us observe:
// - timers: a wrapper around globalThis.setTimeout/setInterval (core reads them at call time)
//   counts the timers made during the test that are still pending, on every runtime; Node and
//   Deno also list them in process.getActiveResourcesInfo() ("Timeout"), Bun reports nothing
//   there, so that second check runs on Node and Deno only;
// - abort listeners: node:events getEventListeners() on a shared AbortSignal, on every runtime;
// - descriptors and threads: /proc/self/fd and /proc/self/status (Linux only);
// - heap: heapUsed after a full GC (Bun.gc on Bun; V8's gc exposed through node:v8 and node:vm
//   on Node and Deno), plus RSS with a generous bound.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import { inotifyAvailable } from "../wake/sources/inotify_source.ts";
import { collect, exitedWithin, spawnScript } from "./_spawn.ts";

const CYCLES = 10_000;
const BATCH = 250;
const IDLE = fileURLToPath(new URL("./fixtures/leak_idle.ts", import.meta.url));
const SLOW = { timeout: 300_000 };
/** The idle child gets this long (startup included) to exit by itself. */
const IDLE_EXIT_MS = 30_000;
const noProc = existsSync("/proc/self/status") ? undefined : "needs Linux's /proc";
after(removeTempDirs);

type Waiting = (db: Database, signal: AbortSignal) => AsyncIterableIterator<unknown>;
const KINDS: Record<string, Waiting> = {
  "claim()": (db, signal) => db.queue("leak").claim("leak-worker", { signal }),
  "listen()": (db, signal) => db.listen("leak", { signal }),
  "subscribe()": (db, signal) => db.stream("leak").subscribe("leak-consumer", { signal }),
  "updates()": (db, signal) => db.updates({ signal }),
};

const realSetTimeout = globalThis.setTimeout;
const sleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Counts timers made through globalThis while installed that have neither fired nor been cleared. */
function trackTimers(): { live: () => number; restore: () => void } {
  const g = globalThis as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = ["setTimeout", "clearTimeout", "setInterval", "clearInterval"].map((k) => g[k]);
  const [setT, clearT, setI, clearI] = saved;
  const live = new Set<unknown>();
  g.setTimeout = (fn: unknown, ms?: unknown, ...rest: unknown[]) => {
    const handle = setT(
      (...a: unknown[]) => {
        live.delete(handle);
        (fn as (...a: unknown[]) => void)(...a);
      },
      ms,
      ...rest,
    );
    live.add(handle);
    return handle;
  };
  g.setInterval = (...args: unknown[]) => {
    const handle = setI(...args);
    live.add(handle);
    return handle;
  };
  g.clearTimeout = (handle: unknown) => (live.delete(handle), clearT(handle));
  g.clearInterval = (handle: unknown) => (live.delete(handle), clearI(handle));
  return {
    live: () => live.size,
    restore: () => {
      ["setTimeout", "clearTimeout", "setInterval", "clearInterval"].forEach((k, i) =>
        g[k] = saved[i]
      );
    },
  };
}

/** "Timeout" entries of getActiveResourcesInfo(), where the runtime reports them. */
function activeTimeouts(): number | undefined {
  if (runtimeKey() === "bun") return undefined; // Bun's list never includes timers.
  const info = (process as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo;
  return info?.().filter((r) => r === "Timeout").length;
}

const fdCount = () => readdirSync("/proc/self/fd").length;
/** Names of this process's threads; a thread that exits while we read is simply left out. */
const threadNames = () =>
  readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      return [readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim()];
    } catch {
      return [];
    }
  });
/**
 * Pools the runtime grows and shrinks by itself (Deno's tokio blocking pool, JavaScriptCore's
 * GC and JIT helpers): they come and go whatever we do, so they are not counted.
 */
const RUNTIME_POOL = /^(tokio-runtime-w|HeapHelper|JITWorker)$|ollector/;
const threadCount = () => threadNames().filter((name) => !RUNTIME_POOL.test(name)).length;
/**
 * Threads that are worker threads: Deno names them `worker-<n>`, Bun `Worker`; Node names every
 * thread `node`, but starts none by itself once warm, so there all threads count.
 */
const workerThreads = (): number => {
  const pattern = { deno: /^worker-\d+$/, bun: /^Worker$/, node: undefined }[runtimeKey()];
  return pattern ? threadNames().filter((name) => pattern.test(name)).length : threadCount();
};

/** A full garbage collection, by whatever the runtime offers. */
function fullGc(): void {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (bun) return bun.gc(true);
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    fullGc();
    await sleep(10);
  }
  return process.memoryUsage().heapUsed;
}

/** Reports a measurement: as a test diagnostic where the runner has them, else on stderr. */
function report(t: unknown, message: string): void {
  const diagnostic = (t as { diagnostic?: (m: string) => void })?.diagnostic;
  if (typeof diagnostic === "function") diagnostic.call(t, message);
  else if (process.env.LEAK_VERBOSE) console.error(message);
}

/** Starts `n` waits of one kind, lets them park, aborts them and awaits their end. */
async function cycle(db: Database, make: Waiting, n: number, parked?: (n: number) => void) {
  const controllers = Array.from({ length: n }, () => new AbortController());
  const pending = controllers.map((c) => make(db, c.signal).next());
  await sleep(0);
  parked?.(n);
  for (const c of controllers) c.abort();
  for (const result of await Promise.all(pending)) assert.equal(result.done, true);
}

describe("no leaks", () => {
  it(`${CYCLES} aborted waits of each kind leave no timer, fd, thread or heap behind`, {
    ...SLOW,
    skip: noProc,
  }, async (t) => {
    const db = await open(tempDbPath());
    for (const make of Object.values(KINDS)) await cycle(db, make, BATCH); // warm up
    const before = {
      heap: await settledHeap(),
      rss: process.memoryUsage().rss,
      fds: fdCount(),
      threads: threadCount(),
      timeouts: activeTimeouts(),
    };
    const timers = trackTimers();
    try {
      for (const [kind, make] of Object.entries(KINDS)) {
        // While a batch is parked its timers are visible: the observable is not vacuous.
        const parked = (n: number) =>
          assert.ok(timers.live() >= (kind === "updates()" ? 1 : n), `${kind}: no parked timers`);
        await cycle(db, make, BATCH, parked);
        for (let done = BATCH; done < CYCLES; done += BATCH) await cycle(db, make, BATCH);
        await sleep(20);
        assert.equal(timers.live(), 0, `${kind}: timers left pending after every wait ended`);
      }
    } finally {
      timers.restore();
    }
    const heap = await settledHeap();
    const timeouts = activeTimeouts();
    if (before.timeouts !== undefined) assert.ok(timeouts! <= before.timeouts, "active Timeouts");
    assert.ok(fdCount() <= before.fds + 2, `fds ${before.fds} -> ${fdCount()}`);
    assert.ok(threadCount() <= before.threads + 1, `threads ${before.threads} -> ${threadCount()}`);
    const heapGrowthMb = (heap - before.heap) / 2 ** 20;
    const rssGrowthMb = (process.memoryUsage().rss - before.rss) / 2 ** 20;
    report(
      t,
      `${runtimeKey()}: timeouts ${before.timeouts} -> ${timeouts}, fds ${before.fds} -> ` +
        `${fdCount()}, threads ${before.threads} -> ${threadCount()}, heap +${
          heapGrowthMb.toFixed(2)
        } MB, RSS +${rssGrowthMb.toFixed(1)} MB`,
    );
    assert.ok(heapGrowthMb < 8, `heap grew ${heapGrowthMb.toFixed(1)} MB over ${CYCLES * 4} waits`);
    assert.ok(rssGrowthMb < 160, `RSS grew ${rssGrowthMb.toFixed(1)} MB`);
    db.close();
  });

  it(`${CYCLES} waits of each kind ended by return() leave no listener on a shared signal`, {
    ...SLOW,
  }, async () => {
    const db = await open(tempDbPath());
    const shared = new AbortController();
    try {
      for (const [kind, make] of Object.entries(KINDS)) {
        for (let done = 0; done < CYCLES; done += BATCH) {
          const iterators = Array.from({ length: BATCH }, () => make(db, shared.signal));
          const pending = iterators.map((iterator) => iterator.next());
          await sleep(0);
          if (done === 0) {
            const listeners = getEventListeners(shared.signal, "abort").length;
            assert.ok(listeners >= BATCH, `${kind}: ${listeners} listeners while parked`);
          }
          await Promise.all(iterators.map((iterator) => iterator.return?.()));
          for (const result of await Promise.all(pending)) assert.equal(result.done, true);
        }
        assert.equal(getEventListeners(shared.signal, "abort").length, 0, kind);
      }
    } finally {
      db.close();
    }
  });

  // Poll mode runs a worker thread on every runtime; so does fs mode on Deno and Bun (inotify).
  const workerModes = [
    ["poll", noProc],
    [
      "fs",
      noProc ??
        (inotifyAvailable() ? undefined : "fs mode has a worker thread on Deno and Bun only"),
    ],
  ] as const;
  for (const [mode, skip] of workerModes) {
    it(`close() in ${mode} mode stops the worker thread within 1 s, twenty times over`, {
      ...SLOW,
      skip,
    }, () => workerStops(mode));
  }

  async function workerStops(mode: "fs" | "poll") {
    const path = tempDbPath();
    const warm = await open(path, { wake: mode }); // warm up: load the adapter and worker code
    void warm.updates().next();
    await sleep(500);
    warm.close();
    await sleep(500);
    const threads = workerThreads();
    const fds = fdCount();
    for (let round = 0; round < 20; round++) {
      const db = await open(path, { wake: mode });
      assert.equal(db.wakeSource, mode);
      if (round === 0) {
        // Nobody waits yet: the watcher, and its worker thread, start only at the first wait.
        await sleep(300);
        assert.equal(workerThreads(), threads, "a worker thread started before anyone waited");
      }
      void db.updates().next(); // ends with "done" at close()
      for (let waited = 0; workerThreads() <= threads && waited < 5_000; waited += 10) {
        await sleep(10);
      }
      assert.ok(workerThreads() > threads, `round ${round}: the worker thread never started`);
      db.close();
      for (let waited = 0; workerThreads() > threads && waited < 1_000; waited += 10) {
        await sleep(10);
      }
      assert.ok(
        workerThreads() <= threads,
        `round ${round}: ${workerThreads() - threads} worker thread(s) still running 1 s after ` +
          "close()",
      );
    }
    assert.ok(fdCount() <= fds + 2, `fds ${fds} -> ${fdCount()} after 20 open/close rounds`);
  }

  it("100 open() and close() in the default wake mode leave no fd or thread behind", {
    ...SLOW,
    skip: noProc,
  }, async () => {
    const path = tempDbPath();
    (await open(path)).close();
    await sleep(500);
    const threads = threadCount();
    const fds = fdCount();
    for (let round = 0; round < 100; round++) {
      const db = await open(path);
      void db.updates().next(); // starts the watcher
      db.close();
    }
    // On Deno and Bun each watcher runs an inotify worker thread; one closed at once still starts, sees
    // the stop flag and exits, and its eventfd is closed on its exit event. So resources are
    // released shortly after close(), not inside it: wait (bounded) for both to settle.
    const settled = () => threadCount() <= threads + 1 && fdCount() <= fds + 2;
    for (let waited = 0; !settled() && waited < 30_000; waited += 10) await sleep(10);
    assert.ok(fdCount() <= fds + 2, `fds ${fds} -> ${fdCount()}`);
    assert.ok(threadCount() <= threads + 1, `threads ${threads} -> ${threadCount()}`);
  });

  it(
    "a process with an open, idle Database exits by itself after aborted waits",
    SLOW,
    async () => {
      const child = spawnScript(IDLE, [tempDbPath()]);
      child.stdin.end();
      const done = collect(child);
      await exitedWithin(child, IDLE_EXIT_MS);
      const result = await done;
      assert.match(result.stdout, /^idle$/m, result.stderr);
      assert.equal(
        result.signal,
        null,
        `still running ${IDLE_EXIT_MS} ms after its last line: something keeps it alive`,
      );
      assert.equal(result.code, 0, result.stderr);
    },
  );
});
