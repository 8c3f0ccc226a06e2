// openTestDatabase() (honker-ts/testing/database): a throw-away database file for an
// application's unit tests, gone with its directory, -wal and -shm once the database closes.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import { openTestDatabase } from "../testing/database.ts";
import type { TestDatabase } from "../testing/database.ts";
import { driverMatrix } from "./_drivers.ts";

/** Processes `n` jobs through work(), which starts the watcher and the maintenance task. */
async function processJobs(db: TestDatabase, n: number): Promise<void> {
  const q = db.queue<number>("emails");
  for (let i = 0; i < n; i++) q.enqueue(i);
  const stop = new AbortController();
  let seen = 0;
  const result = await q.work(() => {
    if (++seen === n) stop.abort();
  }, { signal: stop.signal, idlePollMs: 50 });
  assert.equal(result.acked, n);
}

function assertOpenFiles(db: TestDatabase): void {
  assert.equal(dirname(db.path), db.directory);
  const files = readdirSync(db.directory);
  assert.ok(files.includes(basename(db.path)), `files: ${files}`);
  assert.ok(files.includes(`${basename(db.path)}-wal`), `files: ${files}`);
}

describe("openTestDatabase()", () => {
  for (const wake of ["fs", "poll"] as const) {
    it(
      `removes the file, its -wal and -shm and its directory on close(), after work() processed jobs with the ${wake} watcher running`,
      { timeout: 20_000 },
      async () => {
        const db = await openTestDatabase({ wake });
        await processJobs(db, 3);
        assert.equal(db.wakeSource, wake);
        assertOpenFiles(db);
        db.close();
        assert.equal(existsSync(db.directory), false);
        await new Promise((resolve) => setTimeout(resolve, 300)); // a late watcher write?
        assert.equal(existsSync(db.directory), false);
        db.close(); // a second close is harmless, as for any Database
      },
    );
  }

  for (const entry of driverMatrix()) {
    it(
      `${entry.id}: cleans up a database opened on a driver of the application's own`,
      { skip: entry.skip, timeout: 20_000 },
      async () => {
        const db = await openTestDatabase({ driver: (path) => entry.open(path), name: "app.db" });
        assert.equal(basename(db.path), "app.db");
        await processJobs(db, 2);
        assertOpenFiles(db);
        await db[Symbol.asyncDispose](); // what `await using db = …` calls
        assert.equal(existsSync(db.directory), false);
        assert.equal(db.closed, true);
      },
    );
  }

  it("gives every call its own directory", async () => {
    const a = await openTestDatabase();
    const b = await openTestDatabase();
    try {
      assert.notEqual(a.directory, b.directory);
      a.queue("q").enqueue(1);
      assert.equal(b.queue("q").stats().pending, 0);
    } finally {
      a.close();
      b.close();
    }
  });

  it("removes the directory when the driver cannot be opened, and rethrows", async () => {
    let seen = "";
    await assert.rejects(
      openTestDatabase({
        driver: (path) => {
          seen = path;
          throw new Error("no such driver here");
        },
      }),
      /no such driver here/,
    );
    assert.ok(seen !== "");
    assert.equal(existsSync(dirname(seen)), false);
  });

  it("refuses a name that is not a plain file name and a driver of the wrong type", async () => {
    for (const name of ["", "a/b.db", "..", ":memory:", 5]) {
      await assert.rejects(
        openTestDatabase({ name: name as string }),
        (error: Error) =>
          error instanceof TypeError &&
          /^Cannot open a test database: name must be a plain file name/.test(error.message),
      );
    }
    await assert.rejects(
      openTestDatabase({ driver: 42 as unknown as "node-sqlite" }),
      /^TypeError: Cannot open a test database: driver must be/,
    );
    await assert.rejects(
      openTestDatabase({ wake: "sometimes" as "fs" }),
      TypeError,
    );
  });

  it("keeps the files while a transaction callback is running", async () => {
    const db = await openTestDatabase();
    try {
      db.transaction(() => {
        assert.throws(() => db.close(), /a transaction callback is still running/);
        assert.ok(existsSync(db.path));
      });
    } finally {
      db.close();
    }
    assert.equal(existsSync(db.directory), false);
  });
});
