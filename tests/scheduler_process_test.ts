// Leader election across runtimes: Node, Deno and Bun processes run the scheduler on one file;
// every boundary fires exactly once, also when the leader is SIGKILLed.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import { exited, LineReader, RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";

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
