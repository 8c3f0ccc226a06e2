// Processes that start together on a new file (a web process and a worker, on first deploy):
// while one holds the write lock of the file still in rollback-journal mode, SQLite refuses the
// others' switch to WAL at once with SQLITE_BUSY, without calling the busy handler. open() must
// wait for it within the busy timeout, as for any other lock, instead of failing.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";
import { exited, LineReader, spawnScript } from "./_spawn.ts";

const WRITER = new URL("./fixtures/rollback_writer.ts", import.meta.url).pathname;

for (const entry of driverMatrix()) {
  describe(`${entry.id}: opening a file another process is creating`, { skip: entry.skip }, () => {
    it(
      "waits for the other process's write lock before switching to WAL, within busyTimeoutMs",
      { timeout: 60_000 },
      async () => {
        const path = tempDbPath();
        const child = spawnScript(WRITER, [path, entry.id, "400"]);
        const lines = new LineReader(child);
        await lines.waitFor(/^locked$/, 30_000);
        const driver = await entry.open(path);
        try {
          const started = Date.now();
          const db = fromDriver(driver, { busyTimeoutMs: 10_000 });
          try {
            assert.ok(Date.now() - started >= 100, "it waited for the lock");
            assert.equal(db.queue("jobs").enqueue({ ok: true }) > 0, true);
            const mode = driver.get<{ journal_mode: string }>("PRAGMA journal_mode");
            assert.equal(mode?.journal_mode, "wal");
          } finally {
            db.close();
          }
        } finally {
          driver.close();
          assert.equal(await exited(child), 0);
        }
      },
    );
  });
}
