// What Litestream needs from the processes that share its database (docs/backup.md), on every
// driver: Litestream holds a read transaction of its own and runs its own checkpoints, and a
// RESTART checkpoint holds the write lock while it waits for every reader to finish (an
// application reader that never finishes stalls every writer: benbjohnson/litestream#724). So
// honker-ts must hold no read transaction between calls, even with iterators suspended mid-way,
// must never run a checkpoint that waits for readers, and closing must leave the -wal file
// alone while another connection (Litestream's) has the database open.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fromDriver, open } from "../mod.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { withDb } from "./_db.ts";
import { sleep, tempDbPath } from "./_helpers.ts";

type CheckpointResult = {
  busy: number;
  log: number;
  checkpointed: number;
};

/** A second connection, as Litestream's, that fails at once instead of waiting for a lock. */
async function openOther(entry: DriverEntry, path: string): Promise<SqliteDriver> {
  const other = await entry.open(path);
  other.exec("PRAGMA busy_timeout = 0");
  return other;
}

/** Litestream's busy timeout (its `BusyTimeout`, 1 s) on the connection it checkpoints on. */
const LITESTREAM_BUSY_TIMEOUT_MS = 1000;

/**
 * Litestream's forced checkpoint, on its busy timeout: busy = 1 when a reader (or a writer)
 * held it up for the whole second. A read or write that is only in flight (a claim, a poll's
 * `data_version` read) makes it wait a few milliseconds, as it does Litestream; a read
 * transaction held between calls makes it wait the second and fail, and so does the test.
 */
function restartCheckpoint(other: SqliteDriver): CheckpointResult & { waitedMs: number } {
  other.exec(`PRAGMA busy_timeout = ${LITESTREAM_BUSY_TIMEOUT_MS}`);
  const started = performance.now();
  try {
    const row = other.get<CheckpointResult>("PRAGMA wal_checkpoint(RESTART)");
    assert.ok(row, "wal_checkpoint returned no row");
    return {
      busy: Number(row.busy),
      log: Number(row.log),
      checkpointed: Number(row.checkpointed),
      waitedMs: Math.round(performance.now() - started),
    };
  } finally {
    other.exec("PRAGMA busy_timeout = 0");
  }
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: sharing the database with Litestream`, () => {
    it(
      "holds no read transaction between calls, even with a worker, a scheduler leader, a subscription and listeners suspended mid-way",
      { skip, timeout: 30_000 },
      withDb(entry, async (db, path) => {
        const other = await openOther(entry, path);
        const controller = new AbortController();
        const { signal } = controller;
        try {
          const queue = db.queue<{ n: number }>("emails");
          queue.enqueueMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
          queue.claimOne("w1")?.ack();
          queue.stats();
          queue.jobs();
          const stream = db.stream<number>("orders");
          stream.publishMany([1, 2, 3]);
          db.notify("ch", { hello: 1 });
          db.tryLock("leader", { ttlS: 30 })?.release();

          // Iterators suspended after yielding, a worker between jobs, a scheduler leader.
          const scheduler = db.scheduler();
          scheduler.add({ name: "tick", queue: "ticks", schedule: "@every 1s" });
          const leading = scheduler.run({ signal });
          const updates = db.updates({ signal })[Symbol.asyncIterator]();
          const updated = updates.next();
          let handled = 0;
          const worked = queue.work(() => void handled++, { signal, concurrency: 2 });
          const subscription = stream.subscribe("billing", { signal })[Symbol.asyncIterator]();
          assert.equal((await subscription.next()).value?.payload, 1);
          const listener = db.listen("ch", { signal })[Symbol.asyncIterator]();
          const heard = listener.next();
          db.notify("ch", { hello: 2 });
          await heard;
          await updated;
          for (let t = 0; handled < 2 && t < 200; t++) await sleep(10);
          assert.equal(handled, 2);
          stream.publish(4);

          const result = restartCheckpoint(other);
          assert.deepEqual(
            { busy: result.busy, complete: result.log === result.checkpointed },
            { busy: 0, complete: true },
            `a RESTART checkpoint from another connection was held up: ${JSON.stringify(result)}`,
          );
          controller.abort();
          await worked;
          await leading;
          await updates.return?.();
          await subscription.return?.();
          await listener.return?.();
        } finally {
          controller.abort();
          other.close();
        }
      }),
    );

    it(
      "never waits for a reader: writes and maintenance go on while another connection holds a read transaction",
      { skip, timeout: 30_000 },
      async () => {
        const path = tempDbPath();
        const driver = await entry.open(path);
        // A busy timeout far above the bound below: a checkpoint that waits for the reader
        // (FULL, RESTART, TRUNCATE) would wait this long and fail.
        const db = fromDriver(driver, { busyTimeoutMs: 5000 });
        const reader = await openOther(entry, path);
        try {
          const queue = db.queue<string>("q");
          queue.enqueue("warm-up");
          // Litestream's long read transaction, started after the first commit.
          reader.exec("BEGIN");
          reader.get("SELECT count(*) AS n FROM _honker_live");
          const started = Date.now();
          for (let i = 0; i < 200; i++) {
            db.transaction((tx) => {
              queue.enqueue("x".repeat(2000), { tx });
            });
            queue.claimOne("w")?.ack();
          }
          db.runMaintenance();
          const elapsedMs = Date.now() - started;
          assert.ok(elapsedMs < 2500, `writes took ${elapsedMs} ms beside a reader`);
          reader.exec("COMMIT");
        } finally {
          reader.close();
          db.close();
          driver.close();
        }
      },
    );

    it(
      "close() leaves the -wal file in place while another connection has the database open",
      { skip },
      async () => {
        const path = tempDbPath();
        const other = await openOther(entry, path);
        const driver = await entry.open(path);
        const db = fromDriver(driver);
        try {
          db.queue("q").enqueue({ n: 1 });
          // Litestream reads the database (in WAL mode a connection that has read keeps its
          // shared lock on the file until it closes); then the application stops.
          assert.equal(
            Number(other.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live")?.n),
            1,
          );
          db.close();
          driver.close();
          // Litestream tracks its position by the -wal file's header and frames: had the last
          // honker-ts connection checkpointed and deleted it under Litestream, Litestream
          // would lose its position and start a new generation (a full snapshot).
          assert.ok(existsSync(`${path}-wal`), "the -wal file was removed under another reader");
          assert.equal(restartCheckpoint(other).busy, 0);
        } finally {
          db.close();
          other.close();
        }
      },
    );
  });
}

describe("sharing the database with Litestream: the watcher", () => {
  for (const wake of ["fs", "poll"] as const) {
    it(`a Database opened with wake: "${wake}" never holds up a RESTART checkpoint`, {
      timeout: 30_000,
    }, async () => {
      const path = tempDbPath();
      const db = await open(path, { wake });
      const other = await openOther(driverMatrix()[0], path);
      const controller = new AbortController();
      try {
        const queue = db.queue<number>("q");
        const worked = queue.work(() => {}, { signal: controller.signal });
        const heldUp: CheckpointResult[] = [];
        // Each round a commit wakes the watcher (fs events, or the poll thread's read). The
        // poll thread reads data_version every millisecond, so a checkpoint that may not wait
        // at all (busy_timeout 0) meets one of those reads about once in 300 rounds; Litestream
        // waits, and half a second is far more than a read in flight takes.
        for (let i = 0; i < 50; i++) {
          queue.enqueue(i);
          await sleep(5);
          const result = restartCheckpoint(other);
          if (result.busy !== 0 || result.waitedMs > 500) heldUp.push(result);
        }
        assert.deepEqual(heldUp, [], `${heldUp.length} of 50 RESTART checkpoints were held up`);
        controller.abort();
        await worked;
      } finally {
        controller.abort();
        other.close();
        db.close();
      }
    });
  }
});
