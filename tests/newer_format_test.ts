// Files written by honker's next format (issue #15 item 12): honker's main branch, not yet on npm,
// appends `claimed_at` to _honker_live, keeps jobs whose run_at is in the future in a
// 'scheduled' state, and replaces the _honker_live_claim and _honker_live_pending_deadline
// indexes with _honker_live_ready, _honker_live_scheduled and _honker_live_expiry. A honker-ts
// worker there would never claim a 'scheduled' job, so opening such a file must be refused,
// before anything is written. Files of the published honker 0.4.6 must still open.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, open, UnsupportedDatabaseError } from "../mod.ts";
import type { DriverName, SqliteDriver } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { honkerExtSkip, openHonkerExt } from "./_honker_ext.ts";
import { plainAll, removeTempDirs, tempDbPath } from "./_helpers.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

const BUILT_IN: readonly string[] = ["node-sqlite", "bun-sqlite", "deno-ffi", "bun-ffi"];

/** _honker_live as honker's next format leaves it, with one job waiting in 'scheduled'. */
const NEXT_FORMAT_DDL = `CREATE TABLE _honker_live (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL DEFAULT (unixepoch()),
  worker_id TEXT,
  claim_expires_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  created_at INTEGER NOT NULL DEFAULT (unixepoch()),
  expires_at INTEGER,
  claimed_at INTEGER
);
CREATE INDEX _honker_live_ready ON _honker_live(queue, priority DESC, run_at, id)
  WHERE state = 'pending';
CREATE INDEX _honker_live_scheduled ON _honker_live(queue, run_at) WHERE state = 'scheduled';
CREATE INDEX _honker_live_expiry ON _honker_live(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX _honker_live_processing_deadline ON _honker_live(queue, claim_expires_at)
  WHERE state = 'processing';
INSERT INTO _honker_live (queue, payload, state, run_at)
  VALUES ('emails', '{"to":"a@example.com"}', 'scheduled', unixepoch() + 3600);`;

const REFUSAL = new RegExp(
  `_honker_live has honker's newer format \\(column claimed_at, indexes _honker_live_expiry, ` +
    `_honker_live_ready, _honker_live_scheduled\\); this honker-ts reads honker 0\\.4 files — ` +
    "upgrade honker-ts",
);

/** The schema, the journal mode and the jobs, which a refused open must leave as they were. */
function fileState(driver: SqliteDriver): { schema: unknown; journal: unknown; jobs: unknown } {
  return {
    schema: plainAll(driver.all("SELECT type, name, sql FROM sqlite_master ORDER BY name")),
    journal: driver.get<{ journal_mode: string }>("PRAGMA journal_mode")?.journal_mode,
    jobs: plainAll(driver.all("SELECT * FROM _honker_live")),
  };
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  const openSkip = skip ??
    (BUILT_IN.includes(entry.id) ? undefined : `${entry.id} is not a built-in driver name`);
  describe(`${entry.id}: honker's file formats`, () => {
    it(
      "refuses a file in honker's newer format, naming what it found, and writes nothing",
      { skip },
      async () => {
        const path = tempDbPath();
        const raw = await entry.open(path);
        try {
          // Left in rollback-journal mode: switching it to WAL would be a write, and show.
          raw.exec(NEXT_FORMAT_DDL);
          const before = fileState(raw);
          assert.equal(before.journal, "delete");
          assert.throws(
            () => fromDriver(raw),
            (error: Error) =>
              error instanceof UnsupportedDatabaseError &&
              error.message.startsWith(`Cannot open ${JSON.stringify(path)}: `) &&
              REFUSAL.test(error.message),
          );
          assert.deepEqual(fileState(raw), before);
        } finally {
          raw.close();
        }
      },
    );

    it("open() refuses a file in honker's newer format too", { skip: openSkip }, async () => {
      const path = tempDbPath();
      const raw = await entry.open(path);
      raw.exec(`PRAGMA journal_mode = WAL; ${NEXT_FORMAT_DDL}`);
      raw.close();
      await assert.rejects(
        open(path, { driver: entry.id as DriverName }),
        (error: Error) => error instanceof UnsupportedDatabaseError && REFUSAL.test(error.message),
      );
    });

    it(
      "opens a file made by honker 0.4.6's extension and claims the job enqueued there",
      { skip: skip ?? EXT_SKIP },
      async () => {
        const path = tempDbPath();
        const ext = await openHonkerExt(path);
        const id = ext.enqueue("emails", { to: "b@example.com" });
        ext.close();
        const driver = await entry.open(path);
        const db = fromDriver(driver);
        try {
          const job = db.queue("emails").claimOne("w1");
          assert.equal(job?.id, id);
          assert.deepEqual(job?.payload, { to: "b@example.com" });
        } finally {
          db.close();
          driver.close();
        }
      },
    );
  });
}
