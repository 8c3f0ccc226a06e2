// How many looks the watcher spends on the file-system events of one commit: one commit raises
// several `-wal` events (one per write, merged only when none was read in between), the first
// shows it, and the others must not each start a spin and a chain of timed re-checks
// (wake/wal_tail.ts tells them nothing is being written). Real watchers on real files: fs.watch
// on Node, inotify on Deno and Bun.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { openDriver } from "../adapters/auto.ts";
import type { Database } from "../mod.ts";
import { openCountingProbes } from "./_probes.ts";
import { removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { runScript } from "./_spawn.ts";

after(removeTempDirs);

const WAKE_PEER = new URL("./fixtures/wake_peer.ts", import.meta.url).pathname;

/** Commits made in each test, each after the previous one's events and re-checks are over. */
const COMMITS = 15;
/** Longer than every re-check chain (16 ms at the last) and a loaded machine's delays. */
const GAP_MS = 60;
/**
 * Looks per commit allowed: the event's own and one per later event, a few events per commit.
 * A spin (a look at every turn for 0.3 ms) and five or ten re-checks for each event made it
 * 12–18 on Deno and Bun, in one process and from another.
 */
const LOOKS_PER_COMMIT_MAX = 6;

/** Runs `commit` while a waiter on a watched Database counts its wakes; returns the counts. */
async function watchCommits(commit: (path: string) => Promise<void>) {
  const path = tempDbPath();
  const { db, probes } = await openCountingProbes(path, { wake: "fs", backstopPollMs: 3_600_000 });
  const stop = new AbortController();
  try {
    let wakes = 0;
    const waiting = countWakes(db, stop.signal, () => wakes++);
    await sleep(300); // the watch is in place (the inotify worker starts asynchronously)
    const before = { probes: probes(), wakes };
    await commit(path);
    await sleep(GAP_MS);
    const seen = { looks: probes() - before.probes, wakes: wakes - before.wakes };
    stop.abort();
    await waiting;
    return seen;
  } finally {
    stop.abort();
    db.close();
  }
}

function countWakes(db: Database, signal: AbortSignal, onWake: () => void): Promise<void> {
  return (async () => {
    for await (const _ of db.updates({ signal })) onWake();
  })().catch(() => {});
}

describe("the watcher's looks per commit", () => {
  it("sees each commit of another connection, and its later events cost a look each", {
    timeout: 60_000,
  }, async () => {
    const seen = await watchCommits(async (path) => {
      const other = await openDriver(path);
      try {
        for (let i = 0; i < COMMITS; i++) {
          other.run("INSERT INTO _honker_live (queue, payload) VALUES ('jobs', '{}')");
          await sleep(GAP_MS);
        }
      } finally {
        other.close();
      }
    });
    assert.equal(seen.wakes, COMMITS, "every commit woke the waiter");
    const perCommit = seen.looks / COMMITS;
    assert.ok(perCommit <= LOOKS_PER_COMMIT_MAX, `${perCommit.toFixed(1)} looks per commit`);
  });

  it("sees each commit of another process, and its later events cost a look each", {
    timeout: 60_000,
  }, async () => {
    const seen = await watchCommits(async (path) => {
      const args = [path, "jobs", String(COMMITS), String(GAP_MS), "looks"];
      const child = await runScript(WAKE_PEER, ["produce", ...args]);
      assert.equal(child.code, 0, child.stderr);
    });
    // The peer's open() commits too (its setup): each of those wakes and is looked at.
    assert.ok(seen.wakes >= COMMITS, `${seen.wakes} wakes for ${COMMITS} commits`);
    const perCommit = seen.looks / seen.wakes;
    assert.ok(perCommit <= LOOKS_PER_COMMIT_MAX, `${perCommit.toFixed(1)} looks per commit`);
  });
});
