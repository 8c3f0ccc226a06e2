// Queue.work(): ack, retry with backoff, dead letters, heartbeats, concurrency, abort and grace.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { sqlNow } from "./_db.ts";
import { EMPTY_QUEUE_STATS, tempDbPath } from "./_helpers.ts";

const SLOW = { timeout: 30_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}

function makeDue(db: Database): void {
  db.driver.run("UPDATE _honker_live SET run_at = unixepoch() WHERE state = 'pending'");
}

describe("Queue.work()", () => {
  it("acks every job the handler completes and resolves after abort", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue<number>("q");
    q.enqueueMany([1, 2, 3, 4, 5]);
    const seen: number[] = [];
    const stop = new AbortController();
    const done = q.work((job) => void seen.push(job.payload), {
      signal: stop.signal,
      idlePollMs: null,
    });
    await until(() => seen.length === 5);
    stop.abort();
    assert.deepEqual(await done, { acked: 5, retried: 0, dead: 0, lost: 0 });
    assert.deepEqual(q.stats(), EMPTY_QUEUE_STATS);
    db.close();
  });

  it(
    "retries a throwing handler with exponential backoff, then dead-letters it",
    SLOW,
    async () => {
      const db = await open(tempDbPath());
      const q = db.queue<string>("q", { maxAttempts: 3 });
      const id = q.enqueue("flaky");
      const errors: unknown[] = [];
      const seen: string[] = [];
      const stop = new AbortController();
      const done = q.work(() => {
        throw new Error("boom");
      }, {
        signal: stop.signal,
        retryDelayS: 10,
        idlePollMs: 50,
        // onError gets the queue's Job<string>: its payload needs no cast.
        onError: (e, job) => errors.push(e) && seen.push(job.payload.toUpperCase()),
      });
      for (const expectedDelayS of [10, 20]) {
        await until(() =>
          q.getJob(id)?.state === "pending" && (q.getJob(id)?.attempts ?? 0) === errors.length &&
          errors.length > 0
        );
        assert.ok(Math.abs((q.getJob(id)?.runAt ?? 0) - (sqlNow(db) + expectedDelayS)) <= 1);
        makeDue(db);
        await until(() => errors.length === expectedDelayS / 10 + 1);
      }
      stop.abort();
      assert.deepEqual(await done, { acked: 0, retried: 2, dead: 1, lost: 0 });
      assert.deepEqual(seen, ["FLAKY", "FLAKY", "FLAKY"]);
      const [dead] = q.deadLetters();
      assert.equal(dead.id, id);
      assert.equal(dead.lastError, "Error: boom");
      assert.equal(dead.attempts, 3);
      db.close();
    },
  );

  it("heartbeats a long handler so its claim never lapses", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q", { visibilityTimeoutS: 3 });
    const id = q.enqueue("long");
    const stop = new AbortController();
    let firstExpiry = 0;
    let lastExpiry = 0;
    const done = q.work(async () => {
      firstExpiry = q.getJob(id)?.claimExpiresAt ?? 0;
      await sleep(2_300);
      lastExpiry = q.getJob(id)?.claimExpiresAt ?? 0;
    }, { signal: stop.signal, idlePollMs: null });
    await until(() => lastExpiry > 0);
    stop.abort();
    assert.equal((await done).acked, 1);
    assert.ok(lastExpiry > firstExpiry, `claim_expires_at ${firstExpiry} was not extended`);
    db.close();
  });

  it("runs up to `concurrency` handlers at once", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    q.enqueueMany(Array.from({ length: 9 }, (_, i) => i));
    let running = 0;
    let peak = 0;
    const stop = new AbortController();
    const done = q.work(async () => {
      peak = Math.max(peak, ++running);
      await sleep(50);
      running--;
    }, { concurrency: 3, signal: stop.signal, idlePollMs: null });
    await until(() => q.stats().pending + q.stats().processing === 0);
    stop.abort();
    assert.equal((await done).acked, 9);
    assert.equal(peak, 3);
    db.close();
  });

  it("on abort, lets the in-flight handler finish and claims nothing more", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    q.enqueueMany(["a", "b"]);
    const stop = new AbortController();
    let started = 0;
    const done = q.work(async () => {
      started++;
      stop.abort();
      await sleep(100);
    }, { signal: stop.signal, idlePollMs: null });
    assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
    assert.equal(started, 1);
    assert.equal(q.stats().pending, 1);
    db.close();
  });

  it("stops waiting for a stuck handler after graceMs and aborts its signal", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    q.enqueue("stuck");
    const stop = new AbortController();
    let handlerSignal: AbortSignal | undefined;
    const done = q.work((_job, { signal }) => {
      handlerSignal = signal;
      stop.abort();
      return new Promise(() => {});
    }, { signal: stop.signal, graceMs: 200, idlePollMs: null });
    const started = Date.now();
    assert.deepEqual(await done, { acked: 0, retried: 0, dead: 0, lost: 0 });
    assert.ok(Date.now() - started < 2_000);
    assert.equal(handlerSignal?.aborted, true);
    db.close();
  });

  it("a handler may ack inside its own transaction, with its side effects", SLOW, async () => {
    const db = await open(tempDbPath());
    db.driver.exec("CREATE TABLE shipped (order_id INTEGER PRIMARY KEY)");
    const q = db.queue<{ orderId: number }>("q");
    q.enqueueMany([{ orderId: 1 }, { orderId: 2 }]);
    const stop = new AbortController();
    const done = q.work((job) => {
      db.transaction((tx) => {
        tx.run("INSERT INTO shipped (order_id) VALUES (?)", [job.payload.orderId]);
        assert.equal(job.ack(), true);
      });
      if (job.payload.orderId === 2) stop.abort();
    }, { signal: stop.signal, idlePollMs: null });
    assert.deepEqual(await done, { acked: 2, retried: 0, dead: 0, lost: 0 });
    assert.equal(db.driver.get<{ n: number }>("SELECT count(*) AS n FROM shipped")?.n, 2);
    assert.equal(q.stats().pending + q.stats().processing, 0);
    db.close();
  });

  it("an ack inside a transaction that rolls back does not count", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    q.enqueue("x");
    const job = q.claimOne("w");
    assert.ok(job);
    assert.throws(() =>
      db.transaction(() => {
        assert.equal(job.ack(), true);
        throw new Error("side effect failed");
      }), /side effect failed/);
    assert.equal(job.outcome, null);
    assert.equal(q.getJob(job.id)?.state, "processing");
    assert.equal(job.ack(), true);
    assert.equal(job.outcome, "acked");
    db.close();
  });

  it("a visibility timeout of years does not make the heartbeat a busy loop", SLOW, async () => {
    // visibilityTimeoutS / 3 in ms overflows a 32-bit timer, which every runtime then fires
    // after 1 ms: a 300 ms handler would heartbeat (write) about 300 times.
    const db = await open(tempDbPath());
    const q = db.queue("q", { visibilityTimeoutS: 100_000_000 });
    q.enqueue(1);
    const writes = () => db.driver.get<{ n: number }>("SELECT total_changes() AS n")?.n ?? 0;
    let during = -1;
    const stop = new AbortController();
    const done = q.work(async () => {
      const before = writes();
      await sleep(300);
      during = writes() - before;
      stop.abort();
    }, { signal: stop.signal, idlePollMs: null });
    assert.deepEqual(await done, { acked: 1, retried: 0, dead: 0, lost: 0 });
    assert.equal(during, 0, "no heartbeat is due within 300 ms of a years-long claim");
    db.close();
  });

  it("refuses bad options before claiming anything", async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    q.enqueue(1);
    await assert.rejects(q.work(null as never), /the handler must be a function/);
    await assert.rejects(q.work(() => {}, { concurrency: 0 }), /concurrency must be at least 1/);
    await assert.rejects(q.work(() => {}, { retryDelayS: -1 }), /retryDelayS must not be negative/);
    await assert.rejects(q.work(() => {}, { workerId: "" }), /workerId must not be empty/);
    await assert.rejects(q.work(() => {}, { graceMs: 2 ** 31 }), /graceMs must be at most/);
    assert.equal(q.stats().pending, 1);
    db.close();
  });
});
