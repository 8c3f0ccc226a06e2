// work()'s one fetcher (issue #16): outcomes of handlers that finish together commit in one
// transaction with the next claim, a worker is not woken by its own process's claims and acks,
// and an outcome not yet committed when the process dies is not lost (the job runs again).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, open } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { collect, spawnScript } from "./_spawn.ts";
import { statementLog } from "./_statement_log.ts";

const CHILD = new URL("./fixtures/unflushed_ack_child.ts", import.meta.url).pathname;

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: work() batches its writes`, () => {
    it(
      "handlers that finish together are acked in one commit, not one each",
      { skip, timeout: 30_000 },
      async () => {
        const driver = statementLog(await entry.open(tempDbPath()));
        const db = fromDriver(driver);
        try {
          const q = db.queue<number>("jobs");
          q.enqueueMany(Array.from({ length: 64 }, (_, i) => i));
          driver.log.length = 0;
          const stop = new AbortController();
          let handled = 0;
          const result = await q.work(async () => {
            await Promise.resolve(); // an async handler, as applications write them
            if (++handled === 64) setTimeout(() => stop.abort(), 50);
          }, { concurrency: 32, signal: stop.signal });
          assert.equal(result.acked, 64);
          assert.equal(q.stats().processing + q.stats().pending, 0);
          const commits = driver.log.filter((s) => s.sql === "COMMIT").length;
          const autocommitAcks = driver.log.filter((s) =>
            s.sql.startsWith("DELETE FROM _honker_live") && s.sql.includes("worker_id = ?") &&
            !s.sql.includes("RETURNING")
          ).length;
          // 64 acks in two batches of 32 (plus the last claim): a handful of commits, against
          // 64 autocommit acks when every ack was its own write.
          assert.ok(commits <= 6, `expected a few commits for 64 acks, got ${commits}`);
          assert.equal(autocommitAcks, 64, "each ack is still its own fenced statement");
          const perJob = driver.log.length / 64;
          assert.ok(perJob < 2, `expected under 2 statements per job, got ${perJob.toFixed(2)}`);
        } finally {
          db.close();
          driver.close();
        }
      },
    );

    it(
      "an idle worker is not woken by its own process's claims and acks on another queue",
      { skip, timeout: 30_000 },
      async () => {
        const driver = statementLog(await entry.open(tempDbPath()));
        const db = fromDriver(driver);
        try {
          const idle = db.queue<number>("idle");
          const busy = db.queue<number>("busy");
          const stop = new AbortController();
          const idleRun = idle.work(() => {}, { idlePollMs: null, signal: stop.signal });
          await sleep(50);
          const looksAtIdle = () =>
            driver.log.filter((s) => s.sql.startsWith("SELECT") && s.params[0] === "idle")
              .length;
          const before = looksAtIdle();
          let handled = 0;
          const busyRun = busy.work(() => void handled++, { signal: stop.signal });
          for (let i = 0; i < 40; i++) {
            busy.enqueue(i);
            await eventually(() => handled === i + 1, 5000, "the busy queue's job");
          }
          // The 40 enqueues may each wake the idle worker (an enqueue can make a job claimable:
          // the waker does not know of which queue); the 40 claims and 40 acks must not.
          const looks = looksAtIdle() - before;
          assert.ok(looks <= 60, `the idle queue was looked at ${looks} times for 40 enqueues`);
          stop.abort();
          await Promise.all([idleRun, busyRun]);
        } finally {
          db.close();
          driver.close();
        }
      },
    );
  });
}

describe("work() and close()", () => {
  it("work() resolves once the database is closed under it, idle or with a job in hand", {
    timeout: 30_000,
  }, async () => {
    for (const withJob of [false, true]) {
      const db = await open(tempDbPath());
      const q = db.queue<number>("jobs");
      if (withJob) q.enqueue(1);
      let release = () => {};
      const running = q.work(() => new Promise<void>((resolve) => (release = resolve)));
      await sleep(100);
      db.close();
      release();
      const outcome = await Promise.race([running, sleep(5000).then(() => "still running")]);
      assert.notEqual(outcome, "still running", `withJob=${withJob}`);
    }
  });
});

describe("an outcome not yet committed when the process dies", () => {
  it(
    "a job whose handler returned but whose ack was not committed runs again after SIGKILL",
    { timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const first = await collect(spawnScript(CHILD, ["kill-after", path, "3"]));
      assert.equal(first.signal, "SIGKILL", `${first.code} ${first.stderr}`);
      const handledFirst = first.stdout.trim().split("\n").filter((l) => l.startsWith("handled"));
      assert.equal(handledFirst.length, 3, first.stdout);
      // The third job's handler returned, its ack waited for the next turn: killed before it.
      const second = await collect(spawnScript(CHILD, ["drain", path]));
      assert.equal(second.code, 0, second.stderr);
      const rerun = JSON.parse(second.stdout.trim().split("\n").at(-1)!) as {
        handled: Array<[number, number]>;
        dead: number;
      };
      const third = Number(handledFirst[2].split(" ")[1]);
      const again = rerun.handled.find(([id]) => id === third);
      assert.ok(again, `job ${third} (handled, not committed) must run again: ${second.stdout}`);
      assert.equal(again[1], 2, "it is its second attempt");
      assert.equal(rerun.dead, 0);
      // Jobs 1 and 2 were acked in earlier turns and committed: they do not run again.
      for (const line of handledFirst.slice(0, 2)) {
        const id = Number(line.split(" ")[1]);
        assert.ok(!rerun.handled.some(([h]) => h === id), `job ${id} was acked before the kill`);
      }
    },
  );
});
