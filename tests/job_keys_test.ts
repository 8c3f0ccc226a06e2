// Unique jobs: enqueue(payload, { key }) in its three modes (while live, throttle, debounce),
// their refusals, transactions, a restart, and keyed schedules, on every driver.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { fromDriver, open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, sqlNow, withDb } from "./_db.ts";
import { refusals, tempDbPath } from "./_helpers.ts";
import { runScript } from "./_spawn.ts";

const BOOT = fileURLToPath(new URL("./fixtures/job_keys_boot.ts", import.meta.url));

/** Every table a keyed enqueue may write, to prove a refused call wrote nothing. */
function snapshot(db: Database): string {
  return JSON.stringify(
    ["_honker_live", "_honker_ts_job_keys", "sqlite_sequence"].map((t) =>
      db.driver.all(`SELECT * FROM ${t} ORDER BY 1, 2`).map((r) => ({ ...r }))
    ),
  );
}

/** The key rows of queue "q", as plain objects. */
function keyRows(db: Database): Record<string, unknown>[] {
  return db.driver.all("SELECT key, job_id, mode FROM _honker_ts_job_keys ORDER BY key")
    .map((r) => ({ ...r }));
}

/** Moves every throttle window of the file into the past (the test's clock). */
function endWindows(db: Database): void {
  db.driver.run("UPDATE _honker_ts_job_keys SET expires_at = unixepoch() - 1");
}

for (const entry of driverMatrix()) {
  const skip = entry.skip;
  describe(`${entry.id}: unique jobs`, () => {
    it(
      "a duplicate key while the job is pending or processing adds no job and returns its id",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue({ n: 1 }, { key: "k" });
        assert.equal(q.enqueue({ n: 2 }, { key: "k" }), id);
        assert.deepEqual(q.enqueueUnique({ n: 3 }, { key: "k" }), { id, created: false });
        const job = q.claimOne("w")!;
        assert.equal(job.id, id);
        assert.deepEqual(job.payload, { n: 1 });
        assert.deepEqual(q.enqueueUnique({ n: 4 }, { key: "k" }), { id, created: false });
        assert.equal(q.jobIdForKey("k"), id);
        assert.equal(countRows(db, "_honker_live"), 1);
        job.ack();
        assert.equal(q.jobIdForKey("k"), null, "the ack freed the key");
        const next = q.enqueueUnique({ n: 5 }, { key: "k" });
        assert.equal(next.created, true);
        assert.notEqual(next.id, id);
      }),
    );

    it(
      "a keyed job keeps the timeoutS and backoff it was enqueued with; a duplicate's are dropped",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const options = (timeoutS: number) => ({
          key: "k",
          timeoutS,
          backoff: { type: "fixed" as const, delayS: 7 },
        });
        const id = q.enqueue({ n: 1 }, options(30));
        assert.equal(q.enqueue({ n: 2 }, options(60)), id);
        const rows = db.driver.all<{ job_id: number; timeout_s: number }>(
          "SELECT job_id, timeout_s FROM _honker_ts_job_options",
        );
        assert.deepEqual(rows.map((r) => ({ ...r })), [{ job_id: id, timeout_s: 30 }]);
      }),
    );

    it(
      "a job dead-lettered, cancelled or swept as expired frees its key; a retry keeps it",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q", { maxAttempts: 2 });
        const a = q.enqueue(1, { key: "a" });
        q.claimOne("w")!.retry(0, "boom");
        assert.equal(q.enqueue(2, { key: "a" }), a, "pending again after a retry: still held");
        q.claimOne("w")!.fail("gave up");
        assert.notEqual(q.enqueue(3, { key: "a" }), a, "dead-lettered: freed");

        const b = q.enqueue(1, { key: "b" });
        assert.equal(q.cancel(b), true);
        assert.notEqual(q.enqueue(2, { key: "b" }), b, "cancelled: freed");

        const c = q.enqueue(1, { key: "c", expiresS: 0, delayS: 0 });
        assert.equal(q.sweepExpired() >= 1, true);
        assert.notEqual(q.enqueue(2, { key: "c" }), c, "expired: freed");
      }),
    );

    it(
      "keys are per queue, and jobs without a key are untouched",
      { skip },
      withDb(entry, (db) => {
        const a = db.queue("a").enqueue(1, { key: "k" });
        const b = db.queue("b").enqueue(1, { key: "k" });
        assert.notEqual(a, b);
        db.queue("a").enqueue(1);
        db.queue("a").enqueue(1);
        assert.equal(countRows(db, "_honker_live", "queue = 'a'"), 3);
        assert.equal(db.queue("b").jobIdForKey("k"), b);
        assert.equal(db.queue("c").jobIdForKey("k"), null);
      }),
    );

    it(
      "throttle: the key blocks for ttlS after enqueue even once the job is done, and while live",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue(1, { key: "t", ttlS: 60 });
        const row = db.driver.get<{ expires_at: number; created_at: number }>(
          "SELECT expires_at, created_at FROM _honker_ts_job_keys",
        )!;
        assert.equal(row.expires_at - row.created_at, 60);
        q.claimOne("w")!.ack();
        assert.deepEqual(q.enqueueUnique(2, { key: "t", ttlS: 60 }), { id, created: false });
        assert.equal(q.enqueue(2, { key: "t" }), id, "any mode meets the window");
        assert.equal(countRows(db, "_honker_live"), 0);
        assert.equal(q.jobIdForKey("t"), null, "no live job holds it");
        endWindows(db);
        const next = q.enqueueUnique(3, { key: "t", ttlS: 60 });
        assert.equal(next.created, true, "the window passed: the key is taken over");

        // A job still live when its window ends keeps the key until it finishes.
        endWindows(db);
        assert.deepEqual(q.enqueueUnique(4, { key: "t", ttlS: 60 }), {
          id: next.id,
          created: false,
        });
        q.claimOne("w")!.ack();
        assert.equal(q.jobIdForKey("t"), null, "ended after its window: freed");
        q.sweepExpired();
        assert.equal(countRows(db, "_honker_ts_job_keys", "key = 't'"), 0, "stale: swept");

        // A window that outlived its job is deleted by sweepExpired() once it has passed.
        const held = q.enqueue(6, { key: "swept", ttlS: 60 });
        q.claimOne("w")!.ack();
        q.sweepExpired();
        assert.equal(q.enqueue(7, { key: "swept" }), held, "the window still runs");
        endWindows(db);
        q.sweepExpired();
        assert.equal(countRows(db, "_honker_ts_job_keys", "key = 'swept'"), 0);
        assert.equal(q.enqueueUnique(5, { key: "t", ttlS: 60 }).created, true);
      }),
    );

    it(
      "debounce: a duplicate replaces the pending payload and pushes the run time, capped by maxWaitS",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const now = sqlNow(db);
        const first = q.enqueueUnique({ v: 1 }, { key: "d", debounceS: 30, maxWaitS: 40 });
        assert.equal(first.created, true);
        const job = () => q.getJob(first.id)!;
        assert.ok(
          Math.abs(job().runAt - (now + 31)) <= 1,
          "debounceS + 1: a whole second of quiet",
        );
        // Pretend the window opened 35 s ago: a push to now + 30 would pass first + 40.
        db.driver.run("UPDATE _honker_ts_job_keys SET fire_by = unixepoch() + 5");
        const dup = q.enqueueUnique({ v: 2 }, { key: "d", debounceS: 30, maxWaitS: 40 });
        assert.deepEqual(dup, { id: first.id, created: false });
        assert.deepEqual(job().payload, { v: 2 });
        assert.ok(Math.abs(job().runAt - (now + 5)) <= 1, `capped, got ${job().runAt - now}`);
        q.enqueue({ v: 3 }, { key: "d", debounceS: 30, maxWaitS: 40, replacePayload: false });
        assert.deepEqual(job().payload, { v: 2 }, "replacePayload: false keeps the payload");
        q.enqueue({ v: 4 }, { key: "d" });
        assert.deepEqual(job().payload, { v: 2 }, "a call without debounceS is a plain duplicate");
        assert.equal(countRows(db, "_honker_live"), 1);
      }),
    );

    it(
      "debounce: without maxWaitS each duplicate pushes the run time; a claim frees the key",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const id = q.enqueue({ v: 1 }, { key: "d", debounceS: 0 });
        db.driver.run("UPDATE _honker_live SET run_at = unixepoch() - 50");
        q.enqueue({ v: 2 }, { key: "d", debounceS: 20 });
        assert.ok(Math.abs(q.getJob(id)!.runAt - (sqlNow(db) + 21)) <= 1);
        db.driver.run("UPDATE _honker_live SET run_at = unixepoch()");
        const job = q.claimOne("w")!;
        assert.deepEqual(job.payload, { v: 2 });
        assert.equal(q.jobIdForKey("d"), null, "claimed: the key is free");
        const next = q.enqueueUnique({ v: 3 }, { key: "d", debounceS: 20 });
        assert.equal(next.created, true, "an edit during the run gets its own job");
        job.ack();
        assert.equal(q.jobIdForKey("d"), next.id, "the ack of the old job leaves the new key");
      }),
    );

    it(
      "stale key rows are taken over by the next enqueue and deleted by sweeps, held ones kept",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        const other = db.queue("other");
        const done = ["a", "b", "c"].map((key) => q.enqueue(key, { key }));
        const claimed = q.enqueue("d", { key: "d", debounceS: 0 });
        const live = q.enqueue("live", { key: "live", delayS: 3600 });
        const window = q.enqueue("t", { key: "t", ttlS: 3600, delayS: 3600 });
        other.enqueue("o", { key: "o" });
        for (const id of done) assert.equal(q.cancel(id), true);
        const job = q.claimOne("w")!;
        assert.equal(job.id, claimed);
        assert.equal(q.cancel(window), true);
        // Lazy freeing: the rows stay until a sweep, yet none of them holds its key.
        assert.equal(countRows(db, "_honker_ts_job_keys"), 7);
        for (const key of ["a", "b", "c", "d"]) assert.equal(q.jobIdForKey(key), null, key);
        assert.equal(q.jobIdForKey("live"), live);
        const retaken = q.enqueueUnique("a again", { key: "a" });
        assert.equal(retaken.created, true, "a stale row is taken over");
        assert.deepEqual(keyRows(db)[0], { key: "a", job_id: retaken.id, mode: "live" });

        q.sweepExpired();
        assert.deepEqual(keyRows(db).map((r) => r.key), ["a", "live", "o", "t"].sort());
        assert.equal(q.enqueue("t again", { key: "t" }), window, "the window still holds t");
        assert.equal(other.enqueue("o again", { key: "o" }), other.jobIdForKey("o"), "not swept");

        // The maintenance round sweeps every queue.
        other.cancel(other.jobIdForKey("o")!);
        q.cancel(retaken.id);
        db.runMaintenance();
        assert.deepEqual(keyRows(db).map((r) => r.key), ["live", "t"]);
        job.ack();
      }),
    );

    it(
      "refuses bad keys and options before writing anything",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        q.enqueue(1, { key: "warm" });
        const before = snapshot(db);
        const bad = refusals(q.enqueue.bind(q));
        const at = /^Cannot enqueue to queue "q": /;
        const cases: Array<[unknown, ErrorConstructor, RegExp]> = [
          [{ key: "" }, TypeError, /key must not be empty/],
          [{ key: 5 }, TypeError, /key must be a string/],
          [{ key: "a\u0000b" }, TypeError, /NUL/],
          [{ key: "x".repeat(513) }, RangeError, /key must be at most 512 characters/],
          [{ ttlS: 5 }, TypeError, /ttlS needs a key/],
          [{ debounceS: 5 }, TypeError, /debounceS needs a key/],
          [{ key: "k", maxWaitS: 5 }, TypeError, /maxWaitS needs debounceS/],
          [{ key: "k", replacePayload: false }, TypeError, /replacePayload needs debounceS/],
          [{ key: "k", ttlS: 5, debounceS: 5 }, TypeError, /exclude each other/],
          [{ key: "k", ttlS: 0 }, RangeError, /ttlS must be at least 1 second/],
          [{ key: "k", ttlS: 1.5 }, RangeError, /ttlS must be whole seconds/],
          [{ key: "k", debounceS: -1 }, RangeError, /debounceS must not be negative/],
          [{ key: "k", debounceS: 5, maxWaitS: 4 }, RangeError, /maxWaitS must be at least/],
          [{ key: "k", debounceS: 5, delayS: 1 }, TypeError, /delayS and runAt cannot/],
          [
            { key: "k", debounceS: 5, replacePayload: "no" },
            TypeError,
            /replacePayload must be a boolean/,
          ],
          [{ key: "k", unique: true }, TypeError, /unique/],
        ];
        for (const [options, error, message] of cases) {
          bad([{ n: 1 }, options], error, message);
          bad([{ n: 1 }, options], error, at);
        }
        bad([{ n: 1n }, { key: "warm" }], TypeError, /not JSON-serialisable/);
        const unique = refusals(q.enqueueUnique.bind(q));
        unique([1, {}], TypeError, /enqueueUnique\(\) needs a key/);
        unique([1, { key: "" }], TypeError, /key must not be empty/);
        const many = refusals(q.enqueueMany.bind(q));
        many([[1, 2], { key: "k" }], TypeError, /key is not supported by enqueueMany/);
        many([[1], { ttlS: 3 }], TypeError, /ttlS is not supported by enqueueMany/);
        refusals(q.jobIdForKey.bind(q))([""], TypeError, /key must not be empty/);
        assert.equal(snapshot(db), before);
      }),
    );

    it(
      "joins { tx }: a rolled-back transaction leaves no job and no key behind",
      { skip },
      withDb(entry, (db) => {
        const q = db.queue("q");
        assert.throws(() =>
          db.transaction((tx) => {
            q.enqueue(1, { key: "k", tx });
            assert.equal(q.enqueue(2, { key: "k", tx }), q.jobIdForKey("k"));
            throw new Error("roll back");
          }), /roll back/);
        assert.equal(countRows(db, "_honker_live"), 0);
        assert.equal(countRows(db, "_honker_ts_job_keys"), 0);
        const id = db.transaction((tx) => q.enqueue(1, { key: "k", tx, ttlS: 9 }));
        assert.deepEqual(keyRows(db), [{ key: "k", job_id: id, mode: "throttle" }]);

        // Inside a transaction the application opened itself (an ORM's), through a savepoint.
        db.driver.exec("BEGIN");
        q.enqueue(3, { key: "other" });
        db.driver.exec("ROLLBACK");
        assert.equal(q.jobIdForKey("other"), null);
        assert.equal(countRows(db, "_honker_ts_job_keys"), 1);
      }),
    );

    it(
      "a restarted process re-enqueuing its keys at boot adds no duplicate",
      { skip },
      withDb(entry, async (db, path) => {
        const keys = ["a", "b", "c"];
        const boot = (d: Database) => keys.map((key) => d.queue("q").enqueue({ key }, { key }));
        const first = boot(db);
        db.queue("q").claimOne("w"); // one in flight when the process "dies"
        const driver = await entry.open(path);
        const again = fromDriver(driver);
        try {
          assert.deepEqual(boot(again), first);
          assert.deepEqual(boot(again), first);
          assert.equal(countRows(again, "_honker_live"), 3);
        } finally {
          again.close();
          driver.close();
        }
      }),
    );

    it(
      "a keyed schedule fires no new job while the previous fire's job is live",
      { skip },
      withDb(entry, (db) => {
        const s = db.scheduler();
        const q = db.queue("q");
        s.add({ name: "slow", queue: "q", schedule: "* * * * *", key: true });
        s.add({ name: "plain", queue: "q", schedule: "* * * * *" });
        const t = s.soonest();
        const fires = [t, t + 60, t + 120].flatMap((at) => s.tick(at));
        const slow = fires.filter((f) => f.name === "slow").map((f) => f.jobId);
        assert.equal(new Set(slow).size, 1, `one job for three fires, got ${slow}`);
        assert.equal(fires.filter((f) => f.name === "plain").length, 3);
        assert.equal(q.jobIdForKey("slow"), slow[0]);
        q.cancel(slow[0]);
        const [next] = s.tick(t + 180).filter((f) => f.name === "slow");
        assert.notEqual(next.jobId, slow[0], "freed: the next fire enqueues");

        s.add({ name: "custom", queue: "q", schedule: "* * * * *", key: "shared" });
        assert.deepEqual(
          s.list().map((task) => [task.name, task.key]),
          [["custom", "shared"], ["plain", undefined], ["slow", "slow"]],
        );
        q.enqueue("by hand", { key: "shared" });
        const [c] = s.tick(t + 240).filter((f) => f.name === "custom");
        assert.equal(c.jobId, q.jobIdForKey("shared"), "the key is shared with enqueue()");

        s.add({ name: "slow", queue: "q", schedule: "* * * * *" }); // re-added without a key
        s.remove("custom");
        assert.equal(countRows(db, "_honker_ts_scheduler_keys"), 0);
        refusals(s.add.bind(s))(
          [{ name: "x", queue: "q", schedule: "* * * * *", key: "" }],
          TypeError,
          /key must not be empty/,
        );
        refusals(s.add.bind(s))(
          [{ name: "x", queue: "q", schedule: "* * * * *", key: 3 }],
          TypeError,
          /key must be a string/,
        );
        assert.equal(s.list().some((task) => task.name === "x"), false);
      }),
    );
  });
}

describe("unique jobs across a restart", () => {
  it("a process that re-enqueues its keys at every boot adds no duplicate", async () => {
    const path = tempDbPath();
    const boots = [];
    for (let i = 0; i < 3; i++) {
      const { code, stdout, stderr } = await runScript(BOOT, [path]);
      assert.equal(code, 0, stderr);
      boots.push(JSON.parse(stdout));
    }
    assert.deepEqual(boots[1], boots[0]);
    assert.deepEqual(boots[2], boots[0]);
    const db = await open(path);
    try {
      // Each boot claimed one more; a job in flight when its process exited still holds its key.
      const { pending, scheduled, processing, dead } = db.queue("setup").stats();
      assert.deepEqual({ pending, scheduled, processing, dead }, {
        pending: 0,
        scheduled: 0,
        processing: 3,
        dead: 0,
      });
    } finally {
      db.close();
    }
  });
});
