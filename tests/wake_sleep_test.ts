// The fs-mode watcher follows the file only while someone waits for another process's commit
// (and WATCH_LINGER_MS after): asleep it reads nothing for other connections' commits, and the
// next wait wakes it and catches up on what it missed at once, not at the next backstop poll. A
// busy backoff is not such a wait.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { RESUME_RECHECKS_MS, WATCH_LINGER_MS, WatchSleeper } from "../wake/watch_sleeper.ts";
import { fsEventsUnsafe } from "../wake/watch_options.ts";
import { tempDbPath } from "./_helpers.ts";
import { openCountingProbes } from "./_probes.ts";

const SLOW = { timeout: 60_000, skip: fsEventsUnsafe() };
/** Far beyond every bound below: only an event or a catch-up can end a wait in time. */
const NO_BACKSTOP = { backstopPollMs: 600_000, idleBackstopPollMs: 600_000 };
const WITHIN_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`'s value, or a failure naming `what` when it takes WITHIN_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: nothing within ${WITHIN_MS} ms`)),
      WITHIN_MS,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("the watcher sleeps while nobody waits", () => {
  it(
    "reads nothing for other connections' commits while asleep, and catches up at the next wait",
    SLOW,
    async () => {
      const path = tempDbPath();
      const { db, probes } = await openCountingProbes(path, { wake: "fs", ...NO_BACKSTOP });
      const other = await open(path, { wake: "fs" });
      const jobs = other.queue("jobs");
      const feed = db.updates();
      try {
        // A wait starts the watcher, and an event ends it.
        const first = feed.next();
        await sleep(50);
        jobs.enqueue(0);
        await within(first, "the first wait");
        // Nobody waits now: after the linger the watcher sleeps.
        await sleep(WATCH_LINGER_MS + 500);
        const before = probes();
        for (let i = 1; i <= 20; i++) {
          jobs.enqueue(i);
          await sleep(5);
        }
        await sleep(100);
        assert.equal(probes() - before, 0, "probes for other connections' commits while asleep");
        // The next wait wakes it: the commits made meanwhile end the wait at once.
        const caughtUp = await within(feed.next(), "the wait after the commits made asleep");
        assert.equal(caughtUp.done, false);
        // Awake again, it follows the file: a commit made during a wait ends it.
        const third = feed.next();
        await sleep(50);
        jobs.enqueue(21);
        assert.equal((await within(third, "a wait after waking")).done, false);
      } finally {
        await feed.return?.();
        other.close();
        db.close();
      }
    },
  );

  it(
    "a worker waiting on an empty queue keeps it awake: a job enqueued elsewhere runs",
    SLOW,
    async () => {
      const path = tempDbPath();
      const db = await open(path, { wake: "fs", ...NO_BACKSTOP });
      const other = await open(path, { wake: "fs" });
      const stop = new AbortController();
      try {
        const handled: number[] = [];
        let ran: () => void = () => {};
        const done = db.queue<number>("jobs").work((job) => {
          handled.push(job.payload);
          ran();
        }, { signal: stop.signal });
        // Waits longer than the linger, then twice more after a job: each job comes by its event.
        for (const n of [1, 2, 3]) {
          await sleep(WATCH_LINGER_MS + 200);
          const running = new Promise<void>((resolve) => (ran = resolve));
          other.queue("jobs").enqueue(n);
          await within(running, `job ${n}`);
        }
        stop.abort();
        await done;
        assert.deepEqual(handled, [1, 2, 3]);
      } finally {
        stop.abort();
        other.close();
        db.close();
      }
    },
  );
});

describe("WatchSleeper", () => {
  /** A sleeper whose host records what it was told. */
  function recorded() {
    const told: string[] = [];
    const sleeper = new WatchSleeper({
      sleep: () => (told.push("sleep"), true),
      wake: () => told.push("wake"),
      catchUp: () => told.push("catch-up"),
    });
    return { told, sleeper };
  }

  it("sleeps once the linger has passed without a wait, and wakes with catch-ups", async () => {
    const { told, sleeper } = recorded();
    try {
      await sleep(WATCH_LINGER_MS + 150);
      assert.deepEqual(told, ["sleep"]);
      sleeper.watched(true);
      await sleep(Math.max(...RESUME_RECHECKS_MS) + 100);
      assert.deepEqual(told, ["sleep", "wake", ...RESUME_RECHECKS_MS.map(() => "catch-up")]);
    } finally {
      sleeper.stop();
    }
  });

  it("does not sleep while a wait runs, nor before the linger after the last one ended", async () => {
    const { told, sleeper } = recorded();
    try {
      sleeper.watched(true);
      await sleep(WATCH_LINGER_MS + 150);
      assert.deepEqual(told, [], "a wait runs");
      sleeper.watched(false);
      await sleep(WATCH_LINGER_MS / 2);
      sleeper.watched(true);
      sleeper.watched(false);
      await sleep(WATCH_LINGER_MS / 2 + 50);
      assert.deepEqual(told, [], "the linger restarts at the end of each wait");
      await sleep(WATCH_LINGER_MS);
      assert.deepEqual(told, ["sleep"]);
    } finally {
      sleeper.stop();
    }
  });

  it("stays awake when its host cannot sleep, and does nothing once stopped", async () => {
    const told: string[] = [];
    const sleeper = new WatchSleeper({
      sleep: () => (told.push("sleep refused"), false),
      wake: () => told.push("wake"),
      catchUp: () => told.push("catch-up"),
    });
    await sleep(WATCH_LINGER_MS + 150);
    sleeper.watched(true);
    assert.deepEqual(told, ["sleep refused"], "not asleep, so nothing to wake");
    sleeper.stop();
    sleeper.watched(false);
    await sleep(WATCH_LINGER_MS + 150);
    assert.deepEqual(told, ["sleep refused"]);
  });
});
