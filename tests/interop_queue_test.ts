// Queue interop with honker's real extension (spec §1–§2, §9 items 1–26 and 71): a second
// node:sqlite connection to the same file loads libhonker_ext.so, and each side reads and acts on
// what the other wrote. Every driver of the matrix takes the honker-ts side in turn.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, open } from "../mod.ts";
import type { Queue } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { EMPTY_QUEUE_STATS, plainAll, removeTempDirs, tempDbPath } from "./_helpers.ts";
import {
  alignTimes,
  functionsSkip,
  HONKER_TABLE_COLUMNS,
  honkerExtSkip,
  near,
  openHonkerExt,
  PAYLOADS,
  withPair,
} from "./_honker_ext.ts";
import type { HonkerExt, PairBody } from "./_honker_ext.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

// The same SQL text runs on honker's extension and on our SQL functions, one statement per line.
// Ids: queue d gets 1–6, m 7–9, f 10, r 11.
const DIFF_SCRIPT = `SELECT honker_enqueue('d', '{"k":"ü"}', NULL, NULL, 0, 3, NULL)
SELECT honker_enqueue('d', '"s"', NULL, 60, 5, 3, NULL)
SELECT honker_enqueue('d', '[1,2]', unixepoch() + 30, NULL, 1, 2, 600)
SELECT honker_enqueue('d', 'null', 1000, 45, 0, 3, NULL)
SELECT honker_enqueue('d', '{}', NULL, NULL, 9, 3, -1)
SELECT honker_enqueue('d', '7', NULL, NULL, 8, 0, NULL)
SELECT honker_get_job(2), honker_get_job(3), honker_queue_next_claim_at('d')
SELECT honker_claim_batch('d', 'w1', 5, 30)
SELECT honker_get_job(1), honker_queue_next_claim_at('d')
SELECT honker_heartbeat(1, 'w2', 120), honker_heartbeat(1, 'w1', 120)
SELECT honker_get_job(1)
SELECT honker_retry(1, 'w1', 0, 'again')
SELECT honker_retry(1, 'w1', 0, 'again')
SELECT honker_claim_batch('d', 'w2', 5, 30)
SELECT honker_ack(1, 'w1'), honker_ack(1, 'w2'), honker_get_job(1)
SELECT honker_sweep_expired('d'), honker_claim_batch('d', 'w1', 0, 30)
SELECT honker_cancel(2), honker_cancel(2)
SELECT honker_result_save(3, '{"r":1}', 60)
SELECT honker_result_get(3), honker_result_get(4), honker_result_sweep()
SELECT honker_enqueue('m', '0', NULL, NULL, 0, 3, NULL)
SELECT honker_enqueue('m', '10', NULL, NULL, 10, 3, NULL)
SELECT honker_claim_batch('m', 'w', 1, 30)
SELECT honker_enqueue('m', '5', NULL, NULL, 5, 3, NULL)
SELECT honker_claim_batch('m', 'w', 5, 30)
SELECT honker_ack_batch('[7,8,9,99]', 'w')
SELECT honker_enqueue('f', '1', NULL, NULL, 0, 3, NULL)
SELECT honker_claim_batch('f', 'w', 1, 30)
SELECT honker_fail(10, 'w', 'boom')
SELECT honker_enqueue('r', '1', NULL, NULL, 0, 1, NULL)
SELECT honker_claim_batch('r', 'w', 1, 30)
SELECT honker_retry(11, 'w', 0, 'last'), honker_get_job(11)`.split("\n");

// honker's part of the schema: honker-ts adds only its own `_honker_ts_*` objects (the table of
// schedules in croner's extended syntax, which honker cannot parse).
const MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master " +
  "WHERE tbl_name NOT GLOB '_honker_ts_*' AND name NOT GLOB '_honker_ts_*' ORDER BY name";
const TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB '_honker_*' " +
  "AND name NOT GLOB '_honker_ts_*' ORDER BY name";
const TABLE_INFO = 'SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)';

const masterOf = (conn: { all(sql: string): object[] }) => plainAll(conn.all(MASTER));
const masterViaExt = (ext: HonkerExt) => masterOf({ all: (sql) => ext.rows(sql) });

/** Every column of a result row, JSON text parsed; claim arrays sorted by id. */
function parsedColumns(row: object | undefined): unknown[] {
  return Object.values(row ?? {}).map((value) => {
    if (typeof value !== "string" || !/^[[{]/.test(value)) return value;
    const json = JSON.parse(value);
    return Array.isArray(json) ? json.sort((a, b) => a.id - b.id) : json;
  });
}

/** Asserts that our getJob() and honker_get_job() report the same live row. */
function assertSameView(ext: HonkerExt, q: Queue, id: number): void {
  const theirs = ext.getJob(id);
  const o = q.getJob(id);
  assert.ok(theirs && o, `job ${id} is live on both sides`);
  assert.deepEqual({
    id: o.id,
    queue: o.queue,
    payload: o.payload,
    state: o.state,
    priority: o.priority,
    run_at: o.runAt,
    worker_id: o.workerId,
    claim_expires_at: o.claimExpiresAt,
    attempts: o.attempts,
    max_attempts: o.maxAttempts,
    created_at: o.createdAt,
    expires_at: o.expiresAt,
  }, { ...theirs, payload: JSON.parse(theirs.payload) });
}

for (const entry of driverMatrix()) {
  const skip = EXT_SKIP ?? entry.skip;
  const functionsSkipped = skip ?? await functionsSkip(entry);
  const test = (name: string, body: PairBody, apart = false) =>
    it(name, { skip }, withPair(entry, body, apart));

  describe(`${entry.id} ↔ honker extension: queue interop`, () => {
    test("a job enqueued by honker-ts is claimed by honker, same payload", (db, ext) => {
      const ids = PAYLOADS.map((p) => db.queue("q").enqueue(p));
      const claimed = ext.claim("q", "honker-w", 10);
      assert.deepEqual(claimed.map((c) => c.id), ids);
      claimed.forEach((c, i) => {
        assert.deepEqual(JSON.parse(c.payload), PAYLOADS[i]);
        assert.deepEqual([c.queue, c.worker_id, c.attempts], ["q", "honker-w", 1]);
      });
      assert.equal(claimed[0].payload, '"a \\"quoted\\" string"');
    });

    test("a job enqueued by honker is claimed by honker-ts, same payload", (db, ext) => {
      const ids = PAYLOADS.map((p) => ext.enqueue("q", p));
      const jobs = db.queue("q").claimBatch("ts-w", 10).sort((a, b) => a.id - b.id);
      assert.deepEqual(jobs.map((j) => j.id), ids);
      jobs.forEach((job, i) => {
        assert.deepEqual(job.payload, PAYLOADS[i]);
        assert.deepEqual([job.queue, job.workerId, job.attempts], ["q", "ts-w", 1]);
      });
    });

    test("priorities 0, 10, 5 are claimed as 10, 5, 0 by the other side", (db, ext) => {
      const q = db.queue<number>("p");
      for (const p of [0, 10, 5]) q.enqueue(p, { priority: p });
      const byHonker = [1, 2, 3].map(() => JSON.parse(ext.claim("p", "hw", 1)[0].payload));
      assert.deepEqual(byHonker, [10, 5, 0]);
      for (const p of [0, 10, 5]) ext.enqueue("p2", p, { priority: p });
      assert.deepEqual([1, 2, 3].map(() => db.queue("p2").claimOne("tw")?.payload), [10, 5, 0]);
    });

    test("run_at, expires_at and the rest written by honker-ts are read by honker", (db, ext) => {
      const q = db.queue("t");
      const t = ext.now();
      const a = q.enqueue("a", { delayS: 120, expiresS: 600, priority: 3, maxAttempts: 5 });
      const b = ext.getJob(q.enqueue("b", { runAt: t + 300 }))!;
      const c = ext.getJob(q.enqueue("c", { runAt: 1000, delayS: 60 }))!;
      const ja = ext.getJob(a)!;
      near(ja.run_at, t + 120, "run_at");
      near(ja.expires_at, t + 600, "expires_at");
      near(ja.created_at, t, "created_at");
      assert.deepEqual([ja.state, ja.priority, ja.max_attempts, ja.attempts], ["pending", 3, 5, 0]);
      assert.deepEqual([ja.worker_id, ja.claim_expires_at], [null, null]);
      assert.deepEqual([b.run_at, b.expires_at, b.max_attempts], [t + 300, null, 3]);
      near(c.run_at, t + 60, "delay wins over run_at");
      assert.equal(ext.call("SELECT honker_queue_next_claim_at('t')"), c.run_at);
      assert.deepEqual(ext.claim("t", "hw", 10), []);
    });

    test("run_at, expires_at and the rest written by honker are read by honker-ts", (db, ext) => {
      const q = db.queue("t");
      const t = ext.now();
      const a = q.getJob(ext.enqueue("t", "a", { delayS: 120, expiresS: 600, priority: 3 }))!;
      const b = q.getJob(ext.enqueue("t", "b", { runAt: t + 300, maxAttempts: 5 }))!;
      const c = q.getJob(ext.enqueue("t", "c", { runAt: 1000, delayS: 60 }))!;
      near(a.runAt, t + 120, "runAt");
      near(a.expiresAt, t + 600, "expiresAt");
      near(a.createdAt, t, "createdAt");
      assert.deepEqual([a.state, a.priority, a.maxAttempts, a.attempts], ["pending", 3, 3, 0]);
      assert.deepEqual([a.workerId, a.claimExpiresAt], [null, null]);
      assert.deepEqual([b.runAt, b.expiresAt, b.maxAttempts], [t + 300, null, 5]);
      near(c.runAt, t + 60, "delay wins over run_at");
      assert.equal(q.nextClaimAt(), c.runAt);
      assert.equal(q.claimOne("tw"), null);
    });

    test("honker_get_job() and getJob() agree on jobs the other side claimed", (db, ext) => {
      const q = db.queue("v");
      const a = q.enqueue({ a: 1 }, { priority: 2, expiresS: 900, maxAttempts: 4 });
      ext.claim("v", "hw", 1, 45);
      assertSameView(ext, q, a);
      const b = ext.enqueue("v", { b: "ü" }, { priority: 1, expiresS: 900, maxAttempts: 4 });
      const job = q.claimOne("tw")!;
      assertSameView(ext, q, b);
      const theirs = ext.getJob(b)!;
      assert.deepEqual(
        [job.id, job.runAt, job.createdAt, job.expiresAt, job.claimExpiresAt, job.maxAttempts],
        [b, theirs.run_at, theirs.created_at, theirs.expires_at, theirs.claim_expires_at, 4],
      );
    });

    test("honker's heartbeat, ack and ack_batch act on honker-ts's claims", (db, ext) => {
      const q = db.queue("h", { visibilityTimeoutS: 30 });
      const [a, b, c, d] = q.enqueueMany([1, 2, 3, 4]);
      const jobs = new Map(q.claimBatch("ts-w", 4).map((j) => [j.id, j]));
      const t = ext.now();
      assert.equal(ext.call("SELECT honker_heartbeat(?, 'someone-else', 600)", [a]), 0);
      assert.equal(ext.call("SELECT honker_heartbeat(?, 'ts-w', 600)", [a]), 1);
      near(q.getJob(a)?.claimExpiresAt, t + 600, "claim_expires_at after honker's heartbeat");
      assert.equal(jobs.get(a)?.ack(), true);
      assert.equal(ext.call("SELECT honker_ack(?, 'someone-else')", [b]), 0);
      assert.equal(ext.call("SELECT honker_ack(?, 'ts-w')", [b]), 1);
      assert.equal(jobs.get(b)?.ack(), false);
      assert.equal(ext.call("SELECT honker_ack_batch(?, 'ts-w')", [JSON.stringify([c, d])]), 2);
      assert.deepEqual(q.stats(), EMPTY_QUEUE_STATS);
    });

    test("heartbeat and retry by honker-ts are seen by honker, attempts add up", (db, ext) => {
      const q = db.queue("r");
      const id = q.enqueue({ n: 1 });
      const first = q.claimOne("ts-w")!;
      const t = ext.now();
      assert.equal(first.heartbeat(900), true);
      near(ext.getJob(id)?.claim_expires_at, t + 900, "claim_expires_at after our heartbeat");
      assert.equal(first.retry(0, "again"), true);
      const j = ext.getJob(id)!;
      assert.deepEqual([j.state, j.worker_id, j.claim_expires_at], ["pending", null, null]);
      assert.equal(j.attempts, 1);
      const [second] = ext.claim("r", "hw", 1);
      assert.deepEqual([second.id, second.attempts, second.payload], [id, 2, '{"n":1}']);
      assert.equal(ext.call("SELECT honker_retry(?, 'hw', 0, 'once more')", [id]), 1);
      const third = q.claimOne("ts-w")!;
      assert.equal(third.attempts, 3);
      assert.equal(third.retry(0, "final"), true);
      assert.equal(ext.getJob(id), null);
      assert.deepEqual([ext.deadRow(id)?.last_error, ext.deadRow(id)?.attempts], ["final", 3]);
    });

    test("dead rows written by honker are read by deadLetters()", (db, ext) => {
      const q = db.queue("d");
      const failed = ext.enqueue("d", { f: "✗" }, { priority: 4, maxAttempts: 5 });
      ext.claim("d", "hw", 1);
      const live = ext.getJob(failed)!;
      const t = ext.now();
      assert.equal(ext.call("SELECT honker_fail(?, 'hw', 'boom')", [failed]), 1);
      const exhausted = ext.enqueue("d", "r", { maxAttempts: 1 });
      ext.claim("d", "hw", 1);
      assert.equal(ext.call("SELECT honker_retry(?, 'hw', 0, 'no more')", [exhausted]), 1);
      const expired = ext.enqueue("d", "e", { expiresS: -1 });
      assert.equal(ext.call("SELECT honker_sweep_expired('d')"), 1);
      const [e, r, f] = q.deadLetters();
      near(f.diedAt, t, "diedAt");
      assert.deepEqual({ ...f, diedAt: 0 }, {
        id: failed,
        queue: "d",
        payload: { f: "✗" },
        priority: 4,
        runAt: live.run_at,
        attempts: 1,
        maxAttempts: 5,
        lastError: "boom",
        createdAt: live.created_at,
        diedAt: 0,
      });
      assert.deepEqual([r.id, r.payload, r.attempts, r.lastError], [exhausted, "r", 1, "no more"]);
      assert.deepEqual([e.id, e.attempts, e.lastError], [expired, 0, "expired"]);
      assert.equal(q.stats().dead, 3);
    });

    test("dead rows written by honker-ts are the rows honker writes", (db, ext) => {
      const q = db.queue("d", { maxAttempts: 4 });
      q.enqueue({ k: [1] }, { priority: 2 });
      const job = q.claimOne("ts-w")!;
      const t = ext.now();
      assert.equal(job.fail("kaput"), true);
      const row = ext.deadRow(job.id)!;
      near(row.died_at, t, "died_at");
      assert.deepEqual({ ...row, died_at: 0 }, {
        id: job.id,
        queue: "d",
        payload: '{"k":[1]}',
        priority: 2,
        run_at: job.runAt,
        attempts: 1,
        max_attempts: 4,
        last_error: "kaput",
        created_at: job.createdAt,
        died_at: 0,
      });
      assert.equal(ext.getJob(job.id), null);
      const expired = q.enqueue("e", { expiresS: 0 });
      assert.equal(q.sweepExpired(), 1);
      assert.equal(ext.deadRow(expired)?.last_error, "expired");
      const stale = ext.enqueue("d", "s", { maxAttempts: 1 });
      ext.claim("d", "hw", 1, -1);
      assert.equal(q.claimOne("ts-w"), null);
      const buried = ext.deadRow(stale)!;
      assert.deepEqual([buried.last_error, buried.attempts], ["max attempts exceeded", 1]);
    });

    test("an expired honker claim is reclaimed by honker-ts; cancel works both ways", (db, ext) => {
      const q = db.queue("x");
      const id = ext.enqueue("x", "job");
      ext.claim("x", "hw", 1, -1);
      const job = q.claimOne("ts-w")!;
      assert.deepEqual([job.id, job.attempts, job.workerId], [id, 2, "ts-w"]);
      assert.equal(ext.call("SELECT honker_ack(?, 'hw')", [id]), 0);
      assert.equal(ext.call("SELECT honker_cancel(?)", [id]), 1);
      assert.equal(job.ack(), false);
      const mine = q.enqueue("mine");
      assert.equal(q.cancel(mine), true);
      assert.equal(ext.getJob(mine), null);
      assert.equal(ext.call("SELECT honker_cancel(?)", [mine]), 0);
    });

    test("results saved by one side are read by the other", (db, ext) => {
      const expiresAt = (id: number) =>
        db.driver.get("SELECT expires_at FROM _honker_results WHERE job_id = ?", [id])?.expires_at;
      const t = ext.now();
      db.saveResult(1, { ok: true, items: [1, "二"] }, { ttlS: 60 });
      assert.equal(ext.call("SELECT honker_result_get(1)"), '{"ok":true,"items":[1,"二"]}');
      near(expiresAt(1), t + 60, "expires_at of our result");
      db.saveResult(2, "x");
      assert.equal(ext.call("SELECT honker_result_get(2)"), '"x"');
      assert.equal(ext.call("SELECT honker_result_save(3, '\"x\"', 0)"), 1);
      assert.equal(db.getResult(3), "x");
      ext.call("SELECT honker_result_save(4, ?, 3600)", ['{"a":[1,2]}']);
      assert.deepEqual(db.getResult(4), { a: [1, 2] });
      near(expiresAt(4), t + 3600, "expires_at of honker's result");
      ext.call("SELECT honker_result_save(1, '\"replaced\"', 0)");
      assert.equal(db.getResult(1), "replaced");
      assert.equal(ext.call("SELECT honker_result_get(99)"), null);
      assert.equal(db.getResult(99), undefined);
    });

    it("a file bootstrapped by honker is opened by honker-ts with no change to honker's schema", {
      skip,
    }, async () => {
      const path = tempDbPath();
      const ext = await openHonkerExt(path);
      const before = masterViaExt(ext);
      const driver = await entry.open(path);
      const db = await open(path, { driver });
      try {
        assert.deepEqual(masterViaExt(ext), before);
        assert.deepEqual(masterOf(driver), before);
        assert.equal(db.queue("s").enqueue("ours"), ext.enqueue("s", "theirs") - 1);
      } finally {
        ext.close();
        db.close();
        driver.close();
      }
    });

    it("a file bootstrapped by honker-ts gets no schema change from honker's extension", {
      skip,
    }, async () => {
      const path = tempDbPath();
      const driver = await entry.open(path);
      const db = fromDriver(driver);
      const before = masterOf(driver);
      const ext = await openHonkerExt(path);
      try {
        assert.deepEqual(masterOf(driver), before);
        assert.deepEqual(masterViaExt(ext), before);
      } finally {
        ext.close();
        db.close();
        driver.close();
      }
    });

    test("files bootstrapped by either side have the same 9 tables of spec §1.2", (_db, ext, d) => {
      const expected = Object.keys(HONKER_TABLE_COLUMNS);
      assert.deepEqual(ext.rows(TABLES).map((r) => r.name), expected);
      assert.deepEqual(d.all(TABLES).map((r) => r.name), expected);
      for (const table of expected) {
        const theirs = ext.rows(TABLE_INFO, [table]);
        assert.deepEqual(theirs.map((c) => c.name), HONKER_TABLE_COLUMNS[table], table);
        assert.deepEqual(plainAll(d.all(TABLE_INFO, [table])), theirs, table);
      }
    }, true);

    it(
      "the same SQL gives the same results on honker's extension and our SQL functions",
      {
        skip: functionsSkipped,
      },
      withPair(entry, (_db, ext, driver) => {
        for (const sql of DIFF_SCRIPT) {
          const theirs = parsedColumns(ext.rows(sql)[0]);
          assert.deepEqual(alignTimes(parsedColumns(driver.get(sql)), theirs), theirs, sql);
        }
        for (const table of ["_honker_live", "_honker_dead", "_honker_results"]) {
          const theirs = ext.rows(`SELECT * FROM ${table} ORDER BY 1`);
          const ours = plainAll(driver.all(`SELECT * FROM ${table} ORDER BY 1`));
          assert.deepEqual(alignTimes(ours, theirs), theirs, table);
        }
      }, true),
    );
  });
}

describe("honker extension: schema text", () => {
  it("sqlite_master holds honker's DDL text byte for byte", {
    skip: EXT_SKIP,
  }, async () => {
    const ext = await openHonkerExt(tempDbPath());
    const db = await open(tempDbPath());
    try {
      assert.deepEqual(masterOf(db.driver), masterViaExt(ext));
    } finally {
      ext.close();
      db.close();
    }
  });
});
