// Unique jobs with honker's real extension on the same file: a key is freed when a honker
// process acks, fails, dead-letters or cancels the job holding it (keys are freed lazily: a key
// row whose job left `_honker_live` holds nothing, whoever removed the job), a honker claim frees
// a debounce key, and what a honker process does not honor (its enqueue takes no key; its
// scheduler tick ignores a schedule's key).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { honkerExtSkip, openHonkerExt } from "./_honker_ext.ts";
import type { HonkerExt } from "./_honker_ext.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

/** honker-ts and honker's extension on one fresh file. */
function pair(body: (db: Database, ext: HonkerExt) => void): () => Promise<void> {
  return async () => {
    const path = tempDbPath();
    const db = await open(path);
    const ext = await openHonkerExt(path);
    try {
      body(db, ext);
    } finally {
      ext.close();
      db.close();
    }
  };
}

const keyCount = (ext: HonkerExt) => ext.call<number>("SELECT count(*) FROM _honker_ts_job_keys");

describe("honker extension: unique jobs", () => {
  it(
    "honker's ack frees the key, and the next keyed enqueue adds a job",
    { skip: EXT_SKIP },
    pair((db, ext) => {
      const q = db.queue("q");
      const id = q.enqueue({ n: 1 }, { key: "k" });
      const [claim] = ext.claim("q", "honker-worker", 1);
      assert.equal(claim.id, id);
      assert.equal(q.enqueue({ n: 2 }, { key: "k" }), id, "held while honker processes it");
      assert.equal(ext.call("SELECT honker_ack(?, ?)", [id, "honker-worker"]), 1);
      assert.equal(q.jobIdForKey("k"), null, "freed by honker's ack");
      const next = q.enqueueUnique({ n: 3 }, { key: "k" });
      assert.equal(next.created, true);
      assert.equal(q.jobIdForKey("k"), next.id);
    }),
  );

  it(
    "honker's fail, retry out of attempts, cancel and batch ack free keys too",
    { skip: EXT_SKIP },
    pair((db, ext) => {
      const q = db.queue("q", { maxAttempts: 1 });
      const ids = ["fail", "retry", "cancel", "batch"].map((key) => q.enqueue(key, { key }));
      const held = ext.claim("q", "w", 4).map((c) => c.id);
      assert.deepEqual(held, ids);
      ext.call("SELECT honker_fail(?, 'w', 'boom')", [ids[0]]);
      ext.call("SELECT honker_retry(?, 'w', 0, 'last')", [ids[1]]);
      ext.call("SELECT honker_cancel(?)", [ids[2]]);
      ext.call("SELECT honker_ack_batch(?, 'w')", [JSON.stringify([ids[3]])]);
      for (const key of ["fail", "retry", "cancel", "batch"]) {
        assert.equal(q.jobIdForKey(key), null);
      }
      q.sweepExpired();
      assert.equal(keyCount(ext), 0, "the stale rows are swept");
      for (const key of ["fail", "retry", "cancel", "batch"]) {
        assert.equal(q.enqueueUnique(key, { key }).created, true, key);
      }
    }),
  );

  it(
    "honker's claim frees a debounce key; a throttle window outlives honker's ack",
    { skip: EXT_SKIP },
    pair((db, ext) => {
      const q = db.queue("q");
      const d = q.enqueue({ v: 1 }, { key: "d", debounceS: 0 });
      const t = q.enqueue({ v: 1 }, { key: "t", ttlS: 3600 });
      assert.deepEqual(ext.claim("q", "w", 2).map((c) => c.id), [d, t]);
      assert.equal(q.jobIdForKey("d"), null, "claimed by honker: a debounce key is free");
      assert.equal(q.enqueueUnique({ v: 2 }, { key: "d", debounceS: 0 }).created, true);
      ext.call("SELECT honker_ack(?, 'w')", [t]);
      assert.deepEqual(q.enqueueUnique({ v: 2 }, { key: "t", ttlS: 3600 }), {
        id: t,
        created: false,
      });
    }),
  );

  it(
    "what honker does not honor: its enqueue takes no key, its tick ignores a schedule's key",
    { skip: EXT_SKIP },
    pair((db, ext) => {
      const q = db.queue("q");
      const id = q.enqueue("ours", { key: "k" });
      const theirs = ext.enqueue("q", "theirs");
      assert.notEqual(theirs, id);
      assert.equal(q.jobIdForKey("k"), id, "honker's job holds no key");

      db.scheduler().add({ name: "slow", queue: "s", schedule: "* * * * *", key: true });
      const soonest = ext.call<number>("SELECT honker_scheduler_soonest()");
      const fires = [soonest, soonest + 60].flatMap((at) =>
        ext.json<{ job_id: number }[]>("SELECT honker_scheduler_tick(?)", [at])
      );
      assert.equal(fires.length, 2);
      assert.notEqual(fires[0].job_id, fires[1].job_id, "a honker leader enqueues every fire");
      assert.equal(db.queue("s").stats().pending, 2);
    }),
  );
});
