// The fs-mode backstop poll: at backstopPollMs while the database's files are active, at
// idleBackstopPollMs once they have been quiet, fast again at the next event; and a quiet
// database still wakes its waiters at once.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { QUIET_AFTER_POLLS } from "../wake/sources/backstop.ts";
import { fsEventsUnsafe } from "../wake/watch_options.ts";
import { assertCommitWakesClaim, tempDbPath } from "./_helpers.ts";
import { openCountingProbes } from "./_probes.ts";

const SLOW = { timeout: 60_000, skip: fsEventsUnsafe() };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Probes run during the next `ms` milliseconds. */
async function probesDuring(probes: () => number, ms: number): Promise<number> {
  const before = probes();
  await sleep(ms);
  return probes() - before;
}

describe("fs backstop cadence", () => {
  it(
    "polls fast while active, slowly once quiet, and fast again after the next event",
    SLOW,
    async () => {
      const path = tempDbPath();
      const fastMs = 25;
      const { db, probes } = await openCountingProbes(path, {
        wake: "fs",
        backstopPollMs: fastMs,
        idleBackstopPollMs: 500,
      });
      const other = await open(path, { wake: "poll" });
      try {
        assert.equal(db.wakeSource, "fs");
        void db.updates().next(); // the watcher starts at the first wait; close() ends it
        const quietAfterMs = QUIET_AFTER_POLLS * fastMs;
        // Active at first: about 20 polls in 500 ms.
        const first = await probesDuring(probes, 500);
        assert.ok(first >= 8, `${first} probes in the first 500 ms at a 25 ms cadence`);
        // Quiet: about 3 polls in 1.5 s at 500 ms (60 at the fast cadence).
        await sleep(quietAfterMs + 700);
        const quiet = await probesDuring(probes, 1500);
        assert.ok(quiet <= 8, `${quiet} probes in 1.5 s once quiet`);
        // A commit from another connection is an event on the files: fast again.
        other.queue("jobs").enqueue(1);
        const woken = await probesDuring(probes, 500);
        assert.ok(woken >= 8, `${woken} probes in the 500 ms after a commit`);
        // And quiet again later.
        await sleep(quietAfterMs + 700);
        const again = await probesDuring(probes, 1500);
        assert.ok(again <= 8, `${again} probes in 1.5 s once quiet again`);
      } finally {
        other.close();
        db.close();
      }
    },
  );

  it(
    "a waiter on a quiet database is woken by the next commit's event, not the backstop",
    SLOW,
    async () => {
      const path = tempDbPath();
      // Once quiet, the backstop is an hour away: only the event path can wake the waiter in time.
      const db = await open(path, {
        wake: "fs",
        backstopPollMs: 20,
        idleBackstopPollMs: 3_600_000,
      });
      const other = await open(path, { wake: "poll" });
      try {
        await assertCommitWakesClaim(db, other, 1_000, () => sleep(QUIET_AFTER_POLLS * 20 + 600));
      } finally {
        other.close();
        db.close();
      }
    },
  );
});
