// work()'s heartbeats, one timer per run (core/queue/work_heartbeats.ts): every running job's
// claim is renewed, including jobs that start while the timer is already set; a renewal that is
// refused aborts that job's signal; a finished run leaves no timer keeping its process alive.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { countRows, watchLapsedClaims } from "./_db.ts";
import { eventually, removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { collect, exitedWithin, LineReader, spawnScript } from "./_spawn.ts";

const SLOW = { timeout: 60_000 };
const WORK_EXIT = fileURLToPath(new URL("./fixtures/work_exit.ts", import.meta.url));
/** The child gets this long after its last line to exit; its heartbeat interval is 30 s. */
const EXIT_WITHIN_MS = 10_000;
after(removeTempDirs);

describe("work() heartbeats", () => {
  it(
    "renews every running claim at concurrency 8, jobs starting at different times",
    SLOW,
    async () => {
      const db = await open(tempDbPath());
      // A 1 s claim is renewed every 333 ms: it lapses only if renewals stop for a second.
      const q = db.queue<number>("jobs", { visibilityTimeoutS: 1 });
      q.enqueueMany(Array.from({ length: 16 }, (_, i) => i));
      // Every 50 ms, any claim past its expiry: one a rival worker could take.
      const watch = watchLapsedClaims(db);
      const stop = new AbortController();
      try {
        // Lengths from 1.2 s to 2.1 s: slots free at different moments, so jobs join a run whose
        // timer is already set, and each is renewed three to six times.
        const done = q.work(async (job) => {
          await sleep(1200 + (job.payload * 137) % 900);
        }, { concurrency: 8, signal: stop.signal, idlePollMs: null });
        await eventually(() => countRows(db, "_honker_live") === 0, 30_000, "every ack");
        stop.abort();
        assert.deepEqual(await done, { acked: 16, retried: 0, dead: 0, lost: 0 });
      } finally {
        watch.stop();
        db.close();
      }
      assert.deepEqual([...watch.lapsed], [], "these jobs' claims lapsed while their handlers ran");
    },
  );

  it("a renewal that is refused aborts that job's signal, and only that job's", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("jobs", { visibilityTimeoutS: 1 });
    const [lostId] = q.enqueueMany([1, 2]);
    const reasons = new Map<number, unknown>();
    const stop = new AbortController();
    const done = q.work(async (job, { signal }) => {
      const aborted = new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => resolve())
      );
      await Promise.race([aborted, sleep(1500)]);
      reasons.set(job.payload, signal.aborted ? signal.reason : "not aborted");
    }, { concurrency: 2, signal: stop.signal, idlePollMs: null });
    await eventually(
      () => countRows(db, "_honker_live", "state = 'processing'") === 2,
      5000,
      "both claims",
    );
    // As if the claim had lapsed and another worker had taken it, for an hour (so that this run
    // cannot take the job back when the rival's claim lapses in turn).
    db.driver.run(
      "UPDATE _honker_live SET worker_id = 'rival', claim_expires_at = unixepoch() + 3600 " +
        "WHERE id = ?",
      [lostId],
    );
    await eventually(() => reasons.size === 2, 5000, "both handlers");
    stop.abort();
    assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 1 });
    assert.match(String(reasons.get(1)), new RegExp(`the claim on job ${lostId} was lost`));
    assert.equal(reasons.get(2), "not aborted");
    db.close();
  });

  it(
    "a process whose work() run ended exits by itself, its heartbeat timer cleared",
    SLOW,
    async () => {
      const child = spawnScript(WORK_EXIT, [tempDbPath()]);
      child.stdin.end();
      const lines = new LineReader(child);
      const result = collect(child);
      await lines.waitFor(/^stopped /, 30_000);
      await exitedWithin(child, EXIT_WITHIN_MS);
      const { code, signal, stderr } = await result;
      assert.match(lines.lines.join("\n"), /"acked":16/, stderr);
      assert.equal(signal, null, `still running ${EXIT_WITHIN_MS} ms after its run ended`);
      assert.equal(code, 0, stderr);
    },
  );
});
