// A claim costs the same whatever the backlog behind it (issue #16). work()'s look used to ask,
// beside every claim, whether due pending rows were out of attempts, a question that walks every
// due row when none is: each claim was O(backlog), a drain of N jobs O(N²) (20,000 queued jobs
// drained at 1,400 jobs/s where 1,000 drained at 5,400). Exhausted rows are still dead-lettered,
// by the first look that finds nothing claimable.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import type { SqliteDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { eventually, tempDbPath } from "./_helpers.ts";

const TIMED_JOBS = 300;
const DEEP_BACKLOG = 30_000;
const CHUNK = 5_000;

/**
 * Milliseconds per job for work() at concurrency 1 to handle TIMED_JOBS jobs with `backlog` more
 * queued behind them, on a fresh file.
 */
async function msPerJob(
  openDriver: (path: string) => Promise<SqliteDriver>,
  backlog: number,
): Promise<number> {
  const driver = await openDriver(tempDbPath("backlog.db"));
  const db = fromDriver(driver);
  try {
    const q = db.queue<number>("jobs");
    for (let queued = 0; queued < TIMED_JOBS + backlog; queued += CHUNK) {
      q.enqueueMany(
        Array.from({ length: Math.min(CHUNK, TIMED_JOBS + backlog - queued) }, (_, i) => i),
      );
    }
    const stop = new AbortController();
    let handled = 0;
    const started = performance.now();
    await q.work(() => {
      if (++handled === TIMED_JOBS) stop.abort();
    }, { concurrency: 1, signal: stop.signal });
    const ms = performance.now() - started;
    assert.equal(q.stats().pending, backlog, "the rest of the backlog is still queued");
    return ms / TIMED_JOBS;
  } finally {
    db.close();
    driver.close();
  }
}

for (const entry of driverMatrix()) {
  describe(`${entry.id}: work() behind a deep backlog`, { skip: entry.skip }, () => {
    it(
      `a job costs about the same behind ${
        DEEP_BACKLOG.toLocaleString("en")
      } queued as behind none`,
      { timeout: 180_000 },
      async () => {
        // Alternated, best of two each: the machine is shared and noisy.
        const shallow: number[] = [];
        const deep: number[] = [];
        for (let round = 0; round < 2; round++) {
          shallow.push(await msPerJob(entry.open, 0));
          deep.push(await msPerJob(entry.open, DEEP_BACKLOG));
        }
        const ratio = Math.min(...deep) / Math.min(...shallow);
        // O(backlog) looks made it about 10× at this depth; an O(1) claim keeps it near 1.
        assert.ok(
          ratio < 3,
          `behind ${DEEP_BACKLOG} jobs a job took ${ratio.toFixed(1)}× as long ` +
            `(${Math.min(...deep).toFixed(3)} ms against ${Math.min(...shallow).toFixed(3)} ms)`,
        );
      },
    );

    it("an exhausted row behind claimable work is still dead-lettered under work()", async () => {
      const driver = await entry.open(tempDbPath("exhausted.db"));
      const db = fromDriver(driver);
      try {
        const q = db.queue<string>("jobs");
        const tired = q.enqueue("tired", { priority: 5 });
        db.driver.run("UPDATE _honker_live SET attempts = max_attempts WHERE id = ?", [tired]);
        q.enqueueMany(["a", "b"]);
        const handled: string[] = [];
        const stop = new AbortController();
        const run = q.work((job) => void handled.push(job.payload), {
          concurrency: 4,
          idlePollMs: 50,
          signal: stop.signal,
        });
        await eventually(
          () => handled.length === 2 && q.stats().dead === 1,
          10_000,
          "a and b handled, the exhausted row dead-lettered",
        );
        stop.abort();
        await run;
        assert.deepEqual(handled.sort(), ["a", "b"]);
        const live = db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live");
        assert.equal(live?.n, 0, "the exhausted row left the live table");
      } finally {
        db.close();
        driver.close();
      }
    });
  });
}
