// The bridges' file-side machinery on every driver, with no NATS: the outbox bridge over a Sink
// that fails and stalls (every retry reuses the event's id; the saved position never passes an
// event still unacknowledged), the file's stable id, the inbox's apply-once record, and the
// acknowledged-prefix window.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fromDriver, open } from "../mod.ts";
import {
  applyOnce,
  ensureInbox,
  fileId,
  inboxSources,
  JetStreamInbox,
  OutboxBridge,
  pruneInbox,
  resetFileId,
} from "../bridges/nats/mod.ts";
import type { Sink, SinkMessage } from "../bridges/nats/mod.ts";
import { AckWindow } from "../bridges/ack_window.ts";
import { driverMatrix } from "./_drivers.ts";
import { countRows, withDb } from "./_db.ts";
import { eventually, tempDbPath } from "./_helpers.ts";

/** A sink that fails the first two tries of every 10th offset and can hold one offset back. */
class FlakySink implements Sink {
  readonly name = "flaky";
  readonly attempts = new Map<number, string[]>();
  readonly stored = new Map<number, SinkMessage>();
  held: number | undefined;
  #release: (() => void) | undefined;

  async publish(message: SinkMessage): Promise<void> {
    const tries = this.attempts.get(message.offset) ?? [];
    tries.push(message.id);
    this.attempts.set(message.offset, tries);
    if (message.offset % 10 === 0 && tries.length <= 2) throw new Error("no responders");
    if (message.offset === this.held) {
      await new Promise<void>((resolve) => (this.#release = resolve));
    }
    this.stored.set(message.offset, message);
  }

  release(): void {
    this.held = undefined;
    this.#release?.();
  }

  heldOffsets(): Promise<number[]> {
    return Promise.resolve([...this.stored.keys()]);
  }
}

for (const entry of driverMatrix()) {
  describe(`bridges on ${entry.id}`, { skip: entry.skip }, () => {
    it(
      "retries with the same id and saves no position past an unacknowledged event",
      withDb(entry, async (db) => {
        const offsets = db.stream("orders").publishMany(
          Array.from({ length: 60 }, (_, i) => ({ i })),
        );
        const sink = new FlakySink();
        sink.held = offsets[25];
        const bridge = new OutboxBridge(db, "orders", sink, { windowSize: 8 });
        const stop = new AbortController();
        const running = bridge.run({ signal: stop.signal });
        try {
          await eventually(
            () => offsets.slice(0, 25).every((offset) => sink.stored.has(offset)),
            10_000,
            "the events before the held one, retried until stored",
          );
          await eventually(() => sink.stored.size >= 40, 10_000, "publishes past the held one");
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.ok(bridge.stats().position < offsets[25], "the position passed a held event");
          assert.ok(
            bridge.stats().position >= offsets[24],
            "the acknowledged prefix was not saved",
          );
          sink.release();
          await eventually(() => bridge.stats().lag === 0, 10_000, "caught up");
        } finally {
          stop.abort();
          await running;
        }
        const id = fileId(db);
        for (const offset of offsets) {
          const tries = sink.attempts.get(offset)!;
          assert.deepEqual(new Set(tries), new Set([`${id}:orders:${offset}`]), `offset ${offset}`);
        }
        assert.equal(sink.attempts.get(offsets.find((o) => o % 10 === 0)!)!.length, 3);
        assert.equal(bridge.stats().position, offsets.at(-1));
        assert.ok(bridge.stats().retries >= 12);
        assert.deepEqual(JSON.parse(sink.stored.get(offsets[3])!.payload), { i: 3 });
      }),
    );

    it(
      "saves no position once another owner took its lapsed lock, and ends its term",
      withDb(entry, async (db) => {
        const offsets = db.stream("orders").publishMany(
          Array.from({ length: 30 }, (_, i) => ({ i })),
        );
        const sink = new FlakySink();
        sink.held = offsets[12];
        const errors: string[] = [];
        // Renewed every 20 s: within this test only a save can find the lock gone.
        const bridge = new OutboxBridge(db, "orders", sink, {
          windowSize: 4,
          lockTtlS: 60,
          onError: (error) => errors.push(String(error)),
        });
        const lockName = `honker-ts-bridge:${bridge.name}`;
        const stop = new AbortController();
        const running = bridge.run({ signal: stop.signal });
        try {
          await eventually(
            () => bridge.stats().position === offsets[11],
            10_000,
            "the prefix before the held event saved",
          );
          // The bridge stalled past its lock's TTL, and another took the lock over.
          db.driver.run("UPDATE _honker_locks SET owner = 'usurper' WHERE name = ?", [lockName]);
          sink.release();
          await eventually(() => !bridge.stats().leader, 5_000, "the term ended");
          assert.ok(sink.stored.size > 13, "the acknowledgements after the stall came back");
          assert.equal(bridge.stats().position, offsets[11], "a stale leader moved the position");
          assert.ok(errors.some((e) => /its lock is no longer held by/.test(e)), errors.join());
        } finally {
          stop.abort();
          await running;
        }
        assert.equal(db.stream("orders").getOffset(lockName), offsets[11]);
      }),
    );

    it(
      "gives the file one id for good, another file another, and a new one on resetFileId()",
      withDb(entry, async (db, path) => {
        const id = fileId(db);
        assert.match(id, /^[0-9a-f-]{36}$/);
        const again = fromDriver(await entry.open(path));
        try {
          assert.equal(fileId(again), id);
          const renewed = resetFileId(again);
          assert.notEqual(renewed, id);
          assert.equal(fileId(db), renewed);
        } finally {
          again.close();
          again.driver.close();
        }
      }),
    );

    it(
      "applies a message once per id, and rolls the record back with a failed apply",
      withDb(entry, (db) => {
        ensureInbox(db);
        const copy = db.stream("copy");
        const deliver = (id: string, offset: number, fail = false) =>
          db.transaction((tx) =>
            applyOnce(tx, { id, source: "a:orders", offset }, () => {
              copy.publish({ id }, { tx });
              if (fail) throw new Error("handler failed");
            })
          );
        assert.equal(deliver("a:orders:5", 5), true);
        assert.equal(deliver("a:orders:5", 5), false);
        assert.equal(deliver("a:orders:3", 3), true); // late, not a duplicate
        assert.throws(() => deliver("a:orders:9", 9, true), /handler failed/);
        assert.equal(deliver("a:orders:9", 9), true);
        assert.deepEqual(copy.readSince(0, 10).map((e) => (e.payload as { id: string }).id), [
          "a:orders:5",
          "a:orders:3",
          "a:orders:9",
        ]);
        assert.deepEqual(inboxSources(db), [{ source: "a:orders", offset: 9, applied: 3 }]);
      }),
    );

    it(
      "prunes inbox records past the retention in chunks, keeps recent ones, and a redelivery " +
        "inside the retention still changes nothing",
      withDb(entry, async (db) => {
        ensureInbox(db);
        const copy = db.stream("copy");
        const deliver = (offset: number) =>
          db.transaction((tx) =>
            applyOnce(tx, { id: `a:orders:${offset}`, source: "a:orders", offset }, () => {
              copy.publish({ offset }, { tx });
            })
          );
        for (let offset = 1; offset <= 25; offset++) deliver(offset);
        // The first 15 were applied two hours ago, the rest just now.
        db.driver.run(
          "UPDATE _honker_ts_inbox SET applied_at = applied_at - 7200 WHERE offset <= 15",
        );
        assert.equal(await pruneInbox(db, { olderThanS: 3600, chunkRows: 4 }), 15);
        const kept = db.driver.all<{ offset: number }>(
          "SELECT offset FROM _honker_ts_inbox ORDER BY offset",
        ).map((row) => row.offset);
        assert.deepEqual(kept, Array.from({ length: 10 }, (_, i) => 16 + i));
        assert.equal(await pruneInbox(db, { olderThanS: 3600 }), 0);
        // Redelivered inside the retention: applied once. Older than it: applied again.
        assert.equal(deliver(20), false);
        assert.equal(deliver(3), true);
        assert.equal(countRows(db, "_honker_stream", "topic = 'copy'"), 26);
        assert.deepEqual(inboxSources(db), [{ source: "a:orders", offset: 25, applied: 26 }]);
      }),
    );
  });
}

describe("inbox retention options", () => {
  it("refuses a retention that is not positive whole seconds, and unknown keys", async () => {
    const db = await open(tempDbPath());
    try {
      const apply = () => {};
      const inbox = (extra: object) =>
        new JetStreamInbox(db, {} as never, { stream: "S", consumer: "c", apply, ...extra });
      assert.throws(() => inbox({ retentionS: 0 }), {
        name: "RangeError",
        message: /^Cannot make a JetStream inbox: retentionS must be a positive number/,
      });
      assert.throws(() => inbox({ retentionS: 1.5 }), {
        name: "RangeError",
        message: /retentionS must be whole seconds/,
      });
      assert.throws(() => inbox({ retentionS: "7d" }), {
        name: "TypeError",
        message: /retentionS must be a finite number/,
      });
      assert.throws(() => inbox({ retentionSeconds: 60 }), { name: "TypeError" });
      await assert.rejects(pruneInbox(db, { olderThanS: -1 }), {
        name: "RangeError",
        message: /^Cannot prune the inbox: olderThanS must be a positive number/,
      });
      await assert.rejects(pruneInbox(db, { olderThanS: 60, chunk: 5 } as never), {
        name: "TypeError",
      });
      assert.equal(countRows(db, "sqlite_master", "name = '_honker_ts_inbox'"), 0);
    } finally {
      db.close();
    }
  });
});

describe("AckWindow", () => {
  it("moves the position only over an acknowledged prefix, whatever the order of acks", () => {
    const window = new AckWindow(10);
    for (const offset of [12, 15, 16, 20]) window.add(offset);
    window.ack(16);
    window.ack(20);
    assert.equal(window.position, 10);
    assert.equal(window.inFlight, 2);
    window.ack(12);
    assert.equal(window.position, 12);
    window.ack(15);
    assert.equal(window.position, 20);
    assert.equal(window.inFlight, 0);
  });
});
