// Waiting for jobs in one process: claim() timing (spec §9 items 27–30) and updates().

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { tempDbPath } from "./_helpers.ts";

const SLOW = { timeout: 20_000 };

describe("Queue.claim()", () => {
  it("returns a pending job at once and wakes on a same-process enqueue", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    q.enqueue("first");
    const jobs = q.claim("w", { idlePollMs: 30_000 });
    assert.equal((await jobs.next()).value?.payload, "first");
    const started = Date.now();
    const next = jobs.next();
    setTimeout(() => q.enqueue("second"), 20);
    assert.equal((await next).value?.payload, "second");
    assert.ok(Date.now() - started < 2_500);
    await jobs.return?.();
    db.close();
  });

  it(
    "delivers a job due in 2 s no earlier than 250 ms before and within 1 s after",
    SLOW,
    async () => {
      const db = await open(tempDbPath());
      const q = db.queue("q");
      const jobs = q.claim("w", { idlePollMs: 30_000 });
      const id = q.enqueue("later", { delayS: 2 });
      const dueMs = (q.getJob(id)?.runAt ?? 0) * 1000;
      const job = (await jobs.next()).value;
      const at = Date.now();
      assert.equal(job?.id, id);
      assert.ok(at >= dueMs - 250, `delivered ${dueMs - at} ms early`);
      assert.ok(at <= dueMs + 1_000, `delivered ${at - dueMs} ms late`);
      await jobs.return?.();
      db.close();
    },
  );

  it(
    "an expired claim wakes a sleeping worker at claim_expires_at + 1 with attempts 2",
    SLOW,
    async () => {
      const db = await open(tempDbPath());
      const q = db.queue("q", { visibilityTimeoutS: 1 });
      q.enqueue("abandoned");
      const held = q.claimOne("crashed");
      assert.ok(held);
      const jobs = q.claim("rescuer", { idlePollMs: 30_000 });
      const job = (await jobs.next()).value;
      assert.equal(job?.id, held.id);
      assert.equal(job?.attempts, 2);
      assert.ok(Date.now() >= (held.claimExpiresAt + 1) * 1000 - 250);
      assert.ok(Date.now() <= (held.claimExpiresAt + 1) * 1000 + 1_000);
      await jobs.return?.();
      db.close();
    },
  );

  it("close() ends a pending event-only wait at once", SLOW, async () => {
    const db = await open(tempDbPath());
    const jobs = db.queue("q").claim("w", { idlePollMs: null });
    const next = jobs.next();
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    db.close();
    assert.deepEqual(await next, { done: true, value: undefined });
    assert.ok(Date.now() - started < 100);
  });

  it("break, return() and abort end the iteration promptly", SLOW, async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    const controller = new AbortController();
    const pending = q.claim("w", { idlePollMs: null, signal: controller.signal }).next();
    setTimeout(() => controller.abort(), 20);
    assert.equal((await pending).done, true);
    const jobs = q.claim("w", { idlePollMs: null });
    const waiting = jobs.next();
    await jobs.return?.();
    assert.equal((await waiting).done, true);
    q.enqueue("x");
    for await (const job of q.claim("w")) {
      job.ack();
      break;
    }
    assert.equal(q.stats().pending, 0);
    db.close();
  });

  it("refuses a bad idlePollMs or workerId before waiting", async () => {
    const db = await open(tempDbPath());
    const q = db.queue("q");
    for (const bad of [0, 0.5, -1, NaN, Infinity]) {
      assert.throws(
        () => q.claim("w", { idlePollMs: bad }),
        (e: unknown) =>
          e instanceof RangeError &&
          e.message.includes(`idlePollMs must be a positive number or null, got ${bad}`) &&
          e.message.includes("milliseconds, at least 1"),
      );
    }
    assert.throws(
      () => q.claim("w", { idlePollMs: "5" as never }),
      (e: unknown) => e instanceof TypeError && /idlePollMs must be .*, got "5"/.test(e.message),
    );
    assert.throws(() => q.claim(""), /workerId must not be empty/);
    db.close();
    assert.throws(() => q.claim("w"), /the database is closed/);
  });
});

describe("Database.updates()", () => {
  it("yields a hint after a commit from another connection, and ends on abort", SLOW, async () => {
    const path = tempDbPath();
    const db = await open(path);
    const other = await open(path);
    const controller = new AbortController();
    const updates = db.updates({ signal: controller.signal });
    const hint = updates.next();
    other.queue("q").enqueue(1);
    assert.equal(typeof (await hint).value, "number");
    const last = updates.next();
    controller.abort();
    assert.equal((await last).done, true);
    other.close();
    db.close();
  });
});
