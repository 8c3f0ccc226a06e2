// Claim ownership, expiry, heartbeats and attempt budgets (spec §9 items 13–18, 20, 24).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver } from "../mod.ts";
import { heartbeatJob } from "../core/queue/ops.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";

/** Makes every claim of a job look as if it lapsed a second ago. */
const EXPIRE_CLAIM = "UPDATE _honker_live SET claim_expires_at = unixepoch() - 1 WHERE id = ?";

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: claims`, () => {
    it(
      "eight connections racing for one job produce exactly one winner",
      { skip },
      withDb(entry, async (db, path) => {
        db.queue("q").enqueue("only");
        const others = await Promise.all(
          Array.from({ length: 8 }, async () => fromDriver(await entry.open(path))),
        );
        try {
          const winners = others.map((o, i) => o.queue("q").claimOne(`w${i}`)).filter((j) =>
            j !== null
          );
          assert.equal(winners.length, 1);
          assert.equal(winners[0]?.attempts, 1);
        } finally {
          for (const o of others) {
            o.close();
            o.driver.close();
          }
        }
      }),
    );

    it(
      "an expired claim is reclaimed with attempts 2; only the new holder can ack",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue("x");
        const first = q.claimOne("old");
        assert.ok(first);
        db.driver.run(EXPIRE_CLAIM, [first.id]);
        const second = q.claimOne("new");
        assert.equal(second?.id, first.id);
        assert.equal(second?.attempts, 2);
        assert.equal(first.ack(), false);
        assert.equal(second?.ack(), true);
      }),
    );

    it(
      "the claim is still owned in the second it expires; reclaim starts one second later",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue("x");
        const job = q.claimOne("w");
        assert.ok(job);
        db.driver.run("UPDATE _honker_live SET claim_expires_at = unixepoch() WHERE id = ?", [
          job.id,
        ]);
        assert.equal(q.claimOne("thief"), null);
        assert.equal(q.nextClaimAt(), sqlNow(db) + 1);
        assert.equal(job.ack(), true);
      }),
    );

    it(
      "heartbeat() extends only the holder's live claim",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { visibilityTimeoutS: 30 });
        q.enqueue("x");
        const job = q.claimOne("w");
        assert.ok(job);
        const before = job.claimExpiresAt;
        const impostor = q.getJob(job.id);
        assert.equal(impostor?.workerId, "w");
        assert.equal(heartbeatJob(db.driver, job.id, "other", 300), undefined);
        assert.equal(job.heartbeat(300), true);
        assert.ok(job.claimExpiresAt > before);
        assert.ok(Math.abs(job.claimExpiresAt - (sqlNow(db) + 300)) <= 1);
        assert.equal(q.getJob(job.id)?.claimExpiresAt, job.claimExpiresAt);
        db.driver.run(EXPIRE_CLAIM, [job.id]);
        assert.equal(job.heartbeat(), false);
        assert.equal(q.claimOne("w2")?.attempts, 2);
      }),
    );

    it(
      "heartbeat() defaults to the queue's visibility timeout",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { visibilityTimeoutS: 45 });
        q.enqueue("x");
        const job = q.claimOne("w");
        assert.equal(job?.heartbeat(), true);
        assert.ok(Math.abs((job?.claimExpiresAt ?? 0) - (sqlNow(db) + 45)) <= 1);
      }),
    );

    it(
      "reclaims past maxAttempts dead-letter the job with 'max attempts exceeded'",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { maxAttempts: 2 });
        q.enqueue("x");
        for (const worker of ["a", "b"]) {
          const job = q.claimOne(worker);
          assert.ok(job);
          db.driver.run(EXPIRE_CLAIM, [job.id]);
        }
        assert.equal(q.claimOne("c"), null);
        const [dead] = q.deadLetters();
        assert.equal(dead.attempts, 2);
        assert.equal(dead.lastError, "max attempts exceeded");
        assert.equal(countRows(db, "_honker_live"), 0);
      }),
    );

    it(
      "a pending row already at maxAttempts is dead-lettered by the next claim, not claimed",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue("tired");
        db.driver.run("UPDATE _honker_live SET attempts = 3 WHERE id = ?", [id]);
        assert.equal(q.claimOne("w"), null);
        assert.deepEqual(q.deadLetters().map((d) => [d.id, d.lastError]), [[
          id,
          "max attempts exceeded",
        ]]);
      }),
    );

    it(
      "an exhausted row behind claimable work is dead-lettered once the queue runs short",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const tired = q.enqueue("tired", { priority: 5 });
        db.driver.run("UPDATE _honker_live SET attempts = 3 WHERE id = ?", [tired]);
        q.enqueueMany(["a", "b"]);
        assert.deepEqual(q.claimBatch("w", 2).map((j) => j.payload), ["a", "b"]);
        assert.equal(q.claimOne("w"), null);
        assert.equal(q.stats().dead, 1);
      }),
    );

    it(
      "a valid in-flight claim at maxAttempts is neither stolen nor dead-lettered",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { maxAttempts: 1 });
        q.enqueue("x");
        const job = q.claimOne("w");
        assert.ok(job);
        assert.equal(q.claimOne("other"), null);
        assert.equal(countRows(db, "_honker_dead"), 0);
        assert.equal(job.ack(), true);
      }),
    );

    it(
      "nextClaimAt() ignores exhausted rows and reports run_at of the next job",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        assert.equal(q.nextClaimAt(), 0);
        const id = q.enqueue("x", { delayS: 100 });
        assert.equal(q.nextClaimAt(), q.getJob(id)?.runAt);
        db.driver.run("UPDATE _honker_live SET attempts = 3 WHERE id = ?", [id]);
        assert.equal(q.nextClaimAt(), 0);
      }),
    );

    it(
      "with visibilityTimeoutS 1, another worker can claim after about 2 s",
      { skip, timeout: 10_000 },
      withDb(entry, async (db) => {
        const q = db.queue("q", { visibilityTimeoutS: 1 });
        q.enqueue("slow");
        assert.ok(q.claimOne("w1"));
        assert.equal(q.claimOne("w2"), null);
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        const stolen = q.claimOne("w2");
        assert.equal(stolen?.attempts, 2);
        assert.equal(stolen?.ack(), true);
      }),
    );
  });
}
