// The transactional outbox (spec §6.3, §9 item 77).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { open } from "../mod.ts";
import { EMPTY_QUEUE_STATS, tempDbPath } from "./_helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Database.outbox()", () => {
  it(
    "delivers only what committed, exactly once, then the queue is empty",
    { timeout: 20_000 },
    async () => {
      const db = await open(tempDbPath());
      const delivered: unknown[] = [];
      const hooks = db.outbox<{ order: number }>(
        "hooks",
        (payload) => void delivered.push(payload),
      );
      assert.equal(hooks.queue.name, "_outbox:hooks");
      assert.throws(() =>
        db.transaction((tx) => {
          hooks.enqueue({ order: 1 }, { tx });
          throw new Error("rolled back");
        }), /rolled back/);
      assert.equal(hooks.queue.claimOne("peek"), null);
      db.transaction((tx) => hooks.enqueue({ order: 2 }, { tx }));
      const stop = new AbortController();
      const run = hooks.run({ signal: stop.signal });
      while (delivered.length === 0) await sleep(10);
      await sleep(50);
      stop.abort();
      assert.deepEqual(await run, { acked: 1, retried: 0, dead: 0, lost: 0 });
      assert.deepEqual(delivered, [{ order: 2 }]);
      assert.deepEqual(hooks.queue.stats(), EMPTY_QUEUE_STATS);
      db.close();
    },
  );

  it("retries a failing delivery with backoff and dead-letters it after maxAttempts", {
    timeout: 20_000,
  }, async () => {
    const db = await open(tempDbPath());
    let calls = 0;
    const hooks = db.outbox("hooks", () => {
      calls++;
      throw new Error("HTTP 503");
    }, { maxAttempts: 2, baseBackoffS: 0 });
    hooks.enqueue("ping");
    const stop = new AbortController();
    const run = hooks.run({ signal: stop.signal });
    while (hooks.queue.stats().dead === 0) await sleep(10);
    stop.abort();
    assert.deepEqual(await run, { acked: 0, retried: 1, dead: 1, lost: 0 });
    assert.equal(calls, 2);
    assert.equal(hooks.queue.deadLetters()[0].lastError, "Error: HTTP 503");
    db.close();
  });

  it("refuses a non-function delivery and bad options", async () => {
    const db = await open(tempDbPath());
    assert.throws(() => db.outbox("x", "nope" as never), /delivery must be a function/);
    assert.throws(() => db.outbox("", () => {}), /the outbox name must not be empty/);
    assert.throws(
      () => db.outbox("x", () => {}, { maxAttempts: 0 }),
      /maxAttempts must be at least 1/,
    );
    assert.throws(
      () => db.outbox("x", () => {}, { baseBackoffS: -1 }),
      /baseBackoffS must not be negative/,
    );
    db.close();
  });
});
