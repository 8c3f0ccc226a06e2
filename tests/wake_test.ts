// Cross-process wake-up with real child processes of the runtime running the tests.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { open, WatcherDiedError } from "../mod.ts";
import { fsEventsUnsafe } from "../wake/watch_options.ts";
import { assertCommitWakesClaim, tempDbPath } from "./_helpers.ts";
import { collect, exited, LineReader, runScript, RUNTIME_COMMANDS, spawnScript } from "./_spawn.ts";
import { runtimeKey } from "./_runtime.ts";

const PEER = fileURLToPath(new URL("./fixtures/wake_peer.ts", import.meta.url));
const NO_WORKER_PEER = fileURLToPath(new URL("./fixtures/no_worker_peer.ts", import.meta.url));
const SLOW = { timeout: 60_000 };
const FS_SKIP = fsEventsUnsafe();

/** Starts an event-only consumer process and waits until it is listening. */
async function startConsumer(path: string, wake: string, workerId: string) {
  const child = spawnScript(PEER, ["consume", path, "jobs", wake, workerId]);
  const out = new LineReader(child);
  const ready = await out.waitFor(/^ready /, 20_000);
  return { child, out, mode: ready.slice("ready ".length) };
}

/** `promise`, or a rejection naming `what` when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function payloads(lines: string[]): Array<{ id: number; payload: { tag: string; i: number } }> {
  return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

describe("cross-process wake-up", () => {
  for (const wake of ["fs", "poll"]) {
    const skip = wake === "fs" ? FS_SKIP : undefined;
    it(`an event-only worker (${wake}) gets each of 50 jobs from a producer process`, {
      ...SLOW,
      skip,
    }, async () => {
      const path = tempDbPath();
      (await open(path)).close();
      const consumer = await startConsumer(path, wake, "w1");
      assert.equal(consumer.mode, wake);
      const producer = await runScript(PEER, ["produce", path, "jobs", "50", "5", "p"]);
      assert.equal(producer.code, 0, producer.stderr);
      const got = payloads(await consumer.out.waitForCount(/^\{/, 50, 20_000));
      consumer.child.stdin.end();
      assert.equal(await exited(consumer.child), 0);
      assert.deepEqual(got.map((j) => j.payload.i), Array.from({ length: 50 }, (_, i) => i));
    });
  }

  it("3 producers and 3 event-only workers: every job exactly once", SLOW, async () => {
    const path = tempDbPath();
    (await open(path)).close();
    const consumers = await Promise.all(["a", "b", "c"].map((w) => startConsumer(path, "auto", w)));
    const producers = await Promise.all(
      ["x", "y", "z"].map((tag) => runScript(PEER, ["produce", path, "jobs", "40", "2", tag])),
    );
    for (const p of producers) assert.equal(p.code, 0, p.stderr);
    const db = await open(path);
    const deadline = Date.now() + 20_000;
    while (db.queue("jobs").stats().pending + db.queue("jobs").stats().processing > 0) {
      assert.ok(
        Date.now() < deadline,
        `the workers did not drain the queue: ${JSON.stringify(db.queue("jobs").stats())} ${
          consumers.map((c) => c.out.lines.length)
        }`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    db.close();
    for (const c of consumers) c.child.stdin.end();
    await Promise.all(consumers.map((c) => exited(c.child)));
    const all = consumers.flatMap((c) => payloads(c.out.lines));
    const keys = all.map((j) => `${j.payload.tag}${j.payload.i}`);
    assert.equal(keys.length, 120);
    assert.equal(new Set(keys).size, 120);
  });

  it(
    "a worker SIGKILLed mid-job: another worker completes the job after the timeout",
    SLOW,
    async () => {
      const path = tempDbPath();
      const db = await open(path);
      const id = db.queue("jobs").enqueue({ tag: "crash", i: 0 });
      const crasher = spawnScript(PEER, ["crash-in-handler", path, "jobs", "1"]);
      await new LineReader(crasher).waitFor(new RegExp(`^started ${id}$`), 20_000);
      crasher.kill("SIGKILL");
      await exited(crasher);
      const consumer = await startConsumer(path, "auto", "rescuer");
      const [line] = await consumer.out.waitForCount(/^\{/, 1, 10_000);
      consumer.child.stdin.end();
      await exited(consumer.child);
      assert.deepEqual(JSON.parse(line), { id, payload: { tag: "crash", i: 0 }, attempts: 2 });
      assert.equal(db.queue("jobs").getJob(id), null);
      db.close();
    },
  );

  it("a process holding an idle Database exits on its own", SLOW, async () => {
    const started = Date.now();
    const result = await runScript(PEER, ["idle", tempDbPath()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /ready/);
    assert.ok(Date.now() - started < 15_000);
  });
});

describe("watcher robustness", () => {
  it("close() in poll mode closes the worker's connection first: no -wal or -shm is left", {
    timeout: 60_000,
  }, async () => {
    // Before, the worker closed its connection after close() returned, so it was the last one
    // and checkpointed and removed the -wal file late (4 rounds in 20 left files behind).
    for (let round = 0; round < 20; round++) {
      const path = tempDbPath(`close-${round}.db`);
      const db = await open(path, { wake: "poll" });
      void db.updates().next(); // the watcher, and its worker, start at the first wait
      await new Promise((resolve) => setTimeout(resolve, 20 + round * 5)); // worker running
      db.queue("q").enqueue({ round });
      db.close();
      assert.deepEqual(
        readdirSync(dirname(path)).filter((name) => name.startsWith(`close-${round}.db`)),
        [`close-${round}.db`],
        `round ${round}`,
      );
    }
  });

  for (const wake of ["fs", "poll"] as const) {
    it(`a commit made as the first wait starts the watcher (${wake}) still wakes it`, {
      timeout: 30_000,
      skip: wake === "fs" ? FS_SKIP : undefined,
    }, async () => {
      // The watcher starts at the first wait: on Deno the inotify worker, and in poll mode the
      // poll worker, are not watching yet when this commit lands. The backstop is an hour away,
      // so only the look taken once the watch is in place can wake the waiter in time.
      const path = tempDbPath();
      const db = await open(path, { wake, backstopPollMs: 3_600_000 });
      const other = await open(path, { wake: "poll" });
      try {
        await assertCommitWakesClaim(db, other, 2_000); // its first wait starts the watcher
      } finally {
        other.close();
        db.close();
      }
    });
  }

  it("a commit right after another one still wakes a waiter, events only", {
    timeout: 30_000,
    skip: FS_SKIP,
  }, async () => {
    // Bun's fs.watch drops an event for the same file within about a millisecond of the last
    // one it reported (its duplicate suppression): the second commit raises no event there.
    const path = tempDbPath();
    const db = await open(path, { wake: "fs", backstopPollMs: 3_600_000 });
    const other = await open(path, { wake: "poll" });
    const maxId = () => db.driver.get<{ id: number }>("SELECT max(id) AS id FROM _honker_live")?.id;
    try {
      const hints = db.updates();
      const q = other.queue("jobs");
      for (let round = 0; round < 5; round++) {
        const first = hints.next();
        const a = q.enqueue({ round, n: 1 });
        await within(first, 2_000, `round ${round}: the wake for job ${a}`);
        assert.equal(maxId(), a);
        const second = hints.next();
        const b = q.enqueue({ round, n: 2 }); // within a millisecond of the first one's event
        await within(second, 2_000, `round ${round}: the wake for job ${b}`);
        assert.equal(maxId(), b);
      }
      await hints.return?.();
    } finally {
      other.close();
      db.close();
    }
  });

  it("auto mode never watches files where that would drop SQLite's locks", async () => {
    const db = await open(tempDbPath());
    try {
      assert.equal(db.wakeSource, FS_SKIP ? "poll" : "fs");
    } finally {
      db.close();
    }
    if (FS_SKIP) {
      await assert.rejects(
        open(tempDbPath(), { wake: "fs" }),
        /wake "fs".*honker issue #80.*use "poll"/,
      );
    }
  });

  it("a TRUNCATE checkpoint from another connection does not stop wake-ups", SLOW, async () => {
    const path = tempDbPath();
    const db = await open(path);
    const other = await open(path);
    const jobs = db.queue("jobs").claim("w", { idlePollMs: null });
    other.queue("jobs").enqueue(1);
    assert.equal((await jobs.next()).value?.payload, 1);
    other.driver.get("PRAGMA wal_checkpoint(TRUNCATE)");
    const started = Date.now();
    const next = jobs.next();
    await new Promise((r) => setTimeout(r, 50));
    other.queue("jobs").enqueue(2);
    assert.equal((await next).value?.payload, 2);
    assert.ok(Date.now() - started < 2_000);
    await jobs.return?.();
    other.close();
    db.close();
  });

  it("replacing the file makes waiters fail over to polling within 2 s", SLOW, async () => {
    const path = tempDbPath();
    const db = await open(path);
    const twin = await open(path); // keeps writing to the replaced inode
    const updates = db.updates();
    // Change hints may come first (the poll worker reports one when it starts); the death ends it.
    const died = (async () => {
      try {
        for await (const _ of updates);
      } catch (error) {
        return error;
      }
    })();
    const replacement = tempDbPath();
    (await open(replacement)).close();
    renameSync(replacement, path);
    const error = await Promise.race([
      died,
      new Promise((r) => setTimeout(() => r("timeout"), 2_000)),
    ]);
    assert.ok(error instanceof WatcherDiedError, String(error));
    assert.match(error.message, /replaced or removed/);
    const jobs = db.queue("jobs").claim("w", { idlePollMs: null });
    const next = jobs.next();
    const started = Date.now();
    twin.queue("jobs").enqueue("after the replacement");
    assert.equal((await next).value?.payload, "after the replacement");
    assert.ok(Date.now() - started < 2_000);
    await jobs.return?.();
    // An updates() started after the death has no watcher to tell it of twin's commits: it
    // yields a hint at every dead-watcher poll instead (before, it never yielded at all).
    const hints = db.updates();
    const hint = hints.next();
    const committed = Date.now();
    twin.queue("jobs").enqueue("seen by polling");
    const got = await Promise.race([hint, new Promise((r) => setTimeout(() => r("none"), 2_000))]);
    assert.notEqual(got, "none", "no hint within 2 s of a commit after the watcher died");
    assert.ok(Date.now() - committed < 2_000);
    await hints.return?.();
    twin.close();
    db.close();
  });

  it("when no worker thread can start, poll-mode waits poll instead of failing (Node)", {
    ...SLOW,
    skip: runtimeKey() === "node"
      ? undefined
      : "provoked with Node's permission model (no --allow-worker); runs under Node",
  }, async () => {
    const [node] = RUNTIME_COMMANDS.node;
    const child = spawn(node, [
      "--no-warnings",
      "--permission",
      "--allow-fs-read=*",
      "--allow-fs-write=*",
      NO_WORKER_PEER,
      tempDbPath(),
    ], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.end();
    const result = await collect(child);
    assert.equal(result.code, 0, result.stderr);
    const { workerRefused, claimMs, updatesMs } = JSON.parse(result.stdout);
    assert.match(workerRefused, /access|permission/i, "the precondition: no worker can start");
    assert.ok(claimMs !== null && claimMs < 2_000, `claim saw the commit after ${claimMs} ms`);
    assert.ok(updatesMs !== null && updatesMs < 2_000, `updates() hinted after ${updatesMs} ms`);
  });
});
