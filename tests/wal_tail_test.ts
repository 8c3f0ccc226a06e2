// Whether a commit is being written, read from the -wal file (wake/wal_tail.ts): the file-system
// event source ends its looks after an event when it answers false, so a false "nothing" would
// delay a wake-up until the backstop poll. Real files, written by real connections.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readlinkSync, statSync } from "node:fs";
import process from "node:process";
import { openDriver } from "../adapters/auto.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { committedFrames } from "../wake/shm_header.ts";
import { walTail } from "../wake/wal_tail.ts";
import { open } from "../mod.ts";
import { walIndexHeaderOf } from "./_wal_index.ts";
import { eventually, removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";

after(removeTempDirs);

/** A connection in WAL mode on a new file, with a table `t` committed. */
async function walDatabase(path: string, pageSize = 4096): Promise<SqliteDriver> {
  const driver = await openDriver(path);
  driver.exec(`PRAGMA page_size = ${pageSize}`);
  driver.exec("PRAGMA journal_mode = WAL");
  driver.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
  return driver;
}

/** SQL inserting `rows` rows of 900 random bytes each into `t`. */
function insertBlobs(rows: number): string {
  return "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + rows +
    ") INSERT INTO t (body) SELECT randomblob(900) FROM n";
}

/**
 * Opens a write transaction on a second connection whose page cache is too small for it, so
 * SQLite writes its pages to the WAL long before the commit; returns that connection.
 */
async function spillingTransaction(path: string, pageSize: number): Promise<SqliteDriver> {
  const writer = await openDriver(path);
  writer.exec("PRAGMA cache_size = 10");
  writer.exec("BEGIN IMMEDIATE");
  writer.run(insertBlobs(pageSize / 10)); // 90 pages: many more than the cache holds
  return writer;
}

describe("walTail()", () => {
  it("sees nothing being written after a commit", async () => {
    const path = tempDbPath();
    const db = await walDatabase(path);
    const tail = walTail(path)!;
    try {
      db.run("INSERT INTO t (body) VALUES (randomblob(10))");
      assert.ok(committedFrames(walIndexHeaderOf(path)) > 0);
      assert.equal(tail.pending(walIndexHeaderOf(path)), false);
    } finally {
      tail.close();
      db.close();
    }
  });

  for (const pageSize of [4096, 65536]) {
    it(`sees the frames of a commit still being written (pages of ${pageSize} bytes)`, async () => {
      const path = tempDbPath();
      const db = await walDatabase(path, pageSize);
      db.run("INSERT INTO t (body) VALUES (randomblob(10))");
      const tail = walTail(path)!;
      const writer = await spillingTransaction(path, pageSize);
      try {
        const before = walIndexHeaderOf(path);
        assert.equal(tail.pending(before), true, "frames past the last commit, this WAL's salts");
        writer.exec("COMMIT");
        const committed = walIndexHeaderOf(path);
        assert.ok(committedFrames(committed) > committedFrames(before), "the commit is visible");
        assert.equal(tail.pending(committed), false, "and nothing is written past it");
      } finally {
        writer.close();
        tail.close();
        db.close();
      }
    });
  }

  it("takes a frame left from before the WAL restarted for nothing", async () => {
    const path = tempDbPath();
    const db = await walDatabase(path);
    const tail = walTail(path)!;
    try {
      db.run(insertBlobs(200));
      const long = committedFrames(walIndexHeaderOf(path));
      db.get("PRAGMA wal_checkpoint(PASSIVE)");
      db.run("INSERT INTO t (body) VALUES (randomblob(10))"); // restarts the WAL from frame 1
      const header = walIndexHeaderOf(path);
      assert.ok(committedFrames(header) < long, "the WAL restarted");
      assert.ok(statSync(`${path}-wal`).size > 32 + (committedFrames(header) + 1) * (24 + 4096));
      assert.equal(tail.pending(header), false, "an older WAL's frame, not a commit");
    } finally {
      tail.close();
      db.close();
    }
  });

  it("cannot tell (undefined) without a -wal to read, or once closed", async () => {
    assert.equal(walTail(":memory:"), undefined);
    assert.equal(walTail("file:app.db?mode=memory"), undefined);
    const path = tempDbPath();
    const db = await walDatabase(path);
    const header = walIndexHeaderOf(path);
    const missing = walTail(`${path}.elsewhere`)!;
    assert.equal(missing.pending(header), undefined, "no such file");
    const tail = walTail(path)!;
    try {
      assert.equal(tail.pending(header), false);
      tail.close();
      assert.equal(tail.pending(header), undefined, "closed");
    } finally {
      db.close();
    }
  });

  it("is opened by a watching Database at an event, and closed with it", {
    skip: process.platform === "linux" ? undefined : "reads /proc/self/fd",
  }, async () => {
    const path = tempDbPath();
    const db = await open(path, { wake: "fs" });
    const stop = new AbortController();
    const waiting = (async () => {
      for await (const _ of db.updates({ signal: stop.signal }));
    })().catch(() => {});
    try {
      await sleep(300); // the watch is in place
      // The connection's own descriptor, and the reader's once an event asked it (our own
      // commits' events show no other connection's commit: each asks the -wal).
      const jobs = db.queue("jobs");
      for (let i = 0; i < 20 && descriptorsOf(`${path}-wal`) < 2; i++) {
        jobs.enqueue({ i });
        await sleep(20);
      }
      await eventually(() => descriptorsOf(`${path}-wal`) === 2, 5_000, "the -wal opened");
    } finally {
      stop.abort();
      await waiting;
      db.close();
    }
    assert.equal(descriptorsOf(`${path}-wal`), 0, "every descriptor of the -wal is closed");
  });
});

/** How many of this process's descriptors name `file` (SQLite's own included). */
function descriptorsOf(file: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      // A file deleted since (SQLite deletes -wal at the last close) reads "<path> (deleted)".
      if (readlinkSync(`/proc/self/fd/${fd}`).replace(/ \(deleted\)$/, "") === file) count++;
    } catch {
      // Closed while listed.
    }
  }
  return count;
}
