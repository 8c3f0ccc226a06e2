// Debounce under a steady stream of duplicates, with a real worker: with maxWaitS the key's job
// runs at most once per window and is never starved; without it the job waits for the stream
// to pause, then runs once with the last payload.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";

after(removeTempDirs);

const DEBOUNCE_S = 1;
const MAX_WAIT_S = 3;
const STREAM_MS = 6_500;
const EVERY_MS = 50;

type Run = { key: string; seq: number; id: number; createdAt: number; ranAt: number };

describe("debounce with a real worker", () => {
  it(
    "a stream of duplicates runs the job at most once per maxWaitS window, and never starves it",
    { timeout: 30_000 },
    async () => {
      const db = await open(tempDbPath());
      const q = db.queue<{ key: string; seq: number }>("edits");
      const runs: Run[] = [];
      const stop = new AbortController();
      const now = () => Number(db.driver.get<{ t: number }>("SELECT unixepoch() AS t")?.t);
      const worker = q.work((job) => {
        runs.push({ ...job.payload, id: job.id, createdAt: job.createdAt, ranAt: now() });
      }, { signal: stop.signal, idlePollMs: 100 });
      let created = 0;
      let seq = 0;
      try {
        const end = Date.now() + STREAM_MS;
        while (Date.now() < end) {
          seq++;
          const capped = { debounceS: DEBOUNCE_S, maxWaitS: MAX_WAIT_S };
          if (q.enqueueUnique({ key: "capped", seq }, { key: "capped", ...capped }).created) {
            created++;
          }
          q.enqueue({ key: "open", seq }, { key: "open", debounceS: DEBOUNCE_S });
          await sleep(EVERY_MS);
        }
        const capped = runs.filter((r) => r.key === "capped");
        assert.equal(runs.filter((r) => r.key === "open").length, 0, "no max wait: still waiting");
        assert.ok(capped.length >= 2, `starved: ${capped.length} runs in ${STREAM_MS} ms`);
        assert.ok(
          capped.length <= Math.floor(STREAM_MS / 1000 / (MAX_WAIT_S - 1)) + 1,
          `more than one run per window: ${JSON.stringify(capped)}`,
        );
        for (const [i, run] of capped.entries()) {
          // Whole seconds: a run is due at createdAt + maxWaitS at the latest, and claimed within
          // the second it falls due (give or take one tick of the clock).
          assert.ok(run.ranAt - run.createdAt <= MAX_WAIT_S + 1, JSON.stringify(run));
          // … and while duplicates kept coming, not before its window's cap.
          assert.ok(run.ranAt - run.createdAt >= MAX_WAIT_S - 1, JSON.stringify(run));
          if (i > 0) {
            assert.ok(run.createdAt >= capped[i - 1].ranAt, "a window opened before the last run");
            assert.ok(run.seq > capped[i - 1].seq);
          }
          assert.ok(run.seq > 1 && run.seq <= seq, "the payload is a later duplicate's");
        }
        assert.equal(new Set(capped.map((r) => r.id)).size, capped.length);
        assert.ok(created - capped.length <= 1, `${created} jobs added, ${capped.length} ran`);

        // The stream stops: the open key's job runs once, with the last payload.
        await sleep((DEBOUNCE_S + 1.5) * 1000);
        const open = runs.filter((r) => r.key === "open");
        assert.equal(open.length, 1, JSON.stringify(open));
        assert.equal(open[0].seq, seq);
      } finally {
        stop.abort();
        await worker;
        db.close();
      }
    },
  );
});
