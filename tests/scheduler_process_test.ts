// Leader election across runtimes: Node, Deno and Bun processes run the scheduler on one file;
// every boundary fires exactly once, also when the leader is SIGKILLed. And restarts as an
// application does them: each new process runs the same add() + run() at boot.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import {
  exited,
  LineReader,
  RUNTIME_COMMANDS,
  runtimeBinaryMissing,
  spawnScript,
} from "./_spawn.ts";

const PEER = fileURLToPath(new URL("./fixtures/scheduler_peer.ts", import.meta.url));
const RUNTIMES: Readonly<Record<string, readonly string[]>> = RUNTIME_COMMANDS;
const LEASE_S = 2;
const RUN_MS = 20_000;

// One run covers all three runtimes, so it belongs to one suite only.
const skip = runtimeKey() !== "node"
  ? "the cross-runtime scheduler test runs once, from the Node suite"
  : runtimeBinaryMissing();

function startPeer(runtime: string, path: string): ChildProcessWithoutNullStreams {
  const [bin, ...args] = RUNTIMES[runtime];
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return spawn(bin, [...args, PEER, path, runtime, String(LEASE_S)], { env });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("scheduler leader election across runtimes", () => {
  it("one fire per boundary with a leader on each runtime, through a SIGKILL", {
    skip,
    timeout: 90_000,
  }, async () => {
    const path = tempDbPath();
    const db = await open(path);
    const scheduler = db.scheduler();
    scheduler.add({ name: "every-second", queue: "ticks", schedule: "@every 1s" });
    const firstBoundary = scheduler.soonest();
    const peers = Object.fromEntries(Object.keys(RUNTIMES).map((r) => [r, startPeer(r, path)]));
    try {
      await Promise.all(
        Object.values(peers).map((p) => new LineReader(p).waitFor(/^ready$/, 30_000)),
      );
      await sleep(RUN_MS / 2);
      const leader = db.driver.get<{ owner: string }>(
        "SELECT owner FROM _honker_locks WHERE name = 'honker-scheduler'",
      )?.owner;
      assert.ok(leader && leader in peers, `no leader holds the lock (found ${leader})`);
      peers[leader].kill("SIGKILL");
      await exited(peers[leader]);
      await sleep(RUN_MS / 2);
      const after = db.driver.get<{ owner: string }>(
        "SELECT owner FROM _honker_locks WHERE name = 'honker-scheduler'",
      )?.owner;
      assert.ok(
        after && after !== leader && after in peers,
        `no standby took over from ${leader} (found ${after})`,
      );
    } finally {
      for (const peer of Object.values(peers)) peer.stdin.end();
      await Promise.all(Object.values(peers).map((p) => Promise.race([exited(p), sleep(5_000)])));
      for (const peer of Object.values(peers)) if (peer.exitCode === null) peer.kill("SIGKILL");
    }
    // Every boundary from the first to the one now due fired exactly once: the tick enqueues a
    // job and moves next_fire_at past its boundary in the same transaction.
    const nextBoundary = scheduler.soonest();
    const jobs = db.queue("ticks").stats().pending;
    assert.equal(jobs, nextBoundary - firstBoundary);
    assert.ok(jobs >= RUN_MS / 1000 - 2, `only ${jobs} boundaries fired in ${RUN_MS} ms`);
    db.close();
  });
});

/** Every application process started, so that a failed test leaves none running. */
const apps: ChildProcessWithoutNullStreams[] = [];

function killApps(): void {
  for (const app of apps.splice(0)) {
    if (app.exitCode === null && app.signalCode === null) app.kill("SIGKILL");
  }
}

/** An application process of this runtime: add(name, queue, schedule), then run() as `owner`. */
async function startApp(
  path: string,
  owner: string,
  schedule: string,
): Promise<ChildProcessWithoutNullStreams> {
  const app = spawnScript(PEER, [path, owner, String(LEASE_S), "job", "ticks", schedule]);
  apps.push(app);
  let stderr = "";
  app.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  try {
    await new LineReader(app).waitFor(/^ready$/, 60_000);
  } catch (error) {
    app.kill("SIGKILL");
    throw new Error(`${owner} did not start: ${(error as Error).message}\n${stderr}`);
  }
  return app;
}

/**
 * The boundary of the first job the schedule enqueued. `soonest()` read after an app started is
 * one step late if the app fired a boundary in between (a slow CI machine can take over a second
 * to open the file), so subtract the jobs already enqueued, read between two equal `soonest()`s.
 */
function firstFiredBoundary(db: Database, stepS: number): number {
  for (;;) {
    const before = db.scheduler().soonest();
    const fired = db.queue("ticks").stats().pending;
    if (db.scheduler().soonest() === before) return before - fired * stepS;
  }
}

/** Closes the app's stdin (it aborts run(), releasing the lock) and waits for it to exit. */
async function stopApp(app: ChildProcessWithoutNullStreams): Promise<void> {
  app.stdin.end();
  await Promise.race([exited(app), sleep(10_000)]);
  if (app.exitCode === null) app.kill("SIGKILL");
  await exited(app);
}

describe("scheduler across application restarts", () => {
  it("a schedule re-added by a restarted process fires every boundary missed while none ran", {
    timeout: 120_000,
  }, async () => {
    const path = tempDbPath();
    const first = await startApp(path, "app-1", "@every 1s");
    const db = await open(path);
    try {
      const firstBoundary = firstFiredBoundary(db, 1);
      await sleep(1_500);
      first.kill("SIGKILL"); // a crash: the lock stays held until its 2 s lease lapses
      await exited(first);
      await sleep(4_000); // four boundaries fall due while no process runs
      const second = await startApp(path, "app-2", "@every 1s");
      await sleep(3_000);
      await stopApp(second);
      const nextBoundary = db.scheduler().soonest();
      const jobs = db.queue("ticks").stats().pending;
      assert.ok(nextBoundary - firstBoundary >= 8, `only ${nextBoundary - firstBoundary} s passed`);
      assert.equal(
        jobs,
        nextBoundary - firstBoundary,
        `${jobs} jobs for the ${nextBoundary - firstBoundary} boundaries from ${firstBoundary}`,
      );
    } finally {
      killApps();
      db.close();
    }
  });

  it("an @every 2s schedule re-added every second by restarting processes still fires", {
    timeout: 120_000,
  }, async () => {
    const path = tempDbPath();
    let current = await startApp(path, "app-0", "@every 2s");
    const db = await open(path);
    try {
      const firstBoundary = firstFiredBoundary(db, 2);
      // A deploy a second: the new process boots (add() + run()), then the old one stops.
      for (let i = 1; i <= 8; i++) {
        const started = Date.now();
        const next = await startApp(path, `app-${i}`, "@every 2s");
        await stopApp(current);
        current = next;
        await sleep(Math.max(0, 1_000 - (Date.now() - started)));
      }
      await stopApp(current);
      const nextBoundary = db.scheduler().soonest();
      const jobs = db.queue("ticks").stats().pending;
      assert.equal(jobs, (nextBoundary - firstBoundary) / 2, "one job per 2 s boundary");
      assert.ok(jobs >= 3, `only ${jobs} fires in ${nextBoundary - firstBoundary} s of restarts`);
    } finally {
      killApps();
      db.close();
    }
  });
});
