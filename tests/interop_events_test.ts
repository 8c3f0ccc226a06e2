// Job events with honker's real extension: honker's own enqueue, claim, ack, retry, fail and
// cancel, made on a second connection to the file, are recorded by honker-ts's triggers, and
// queue.events() and waitFor() in honker-ts see them.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { JobFailedError } from "../mod.ts";
import type { Database } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import { removeTempDirs } from "./_helpers.ts";
import { honkerExtSkip, withPair } from "./_honker_ext.ts";
import type { PairBody } from "./_honker_ext.ts";

const EXT_SKIP = await honkerExtSkip();
after(removeTempDirs);

/** The events of `queue` as stored: [jobId, type, attempt, data]. */
function stored(db: Database, queue: string): [number, string, number, unknown][] {
  return db.driver.all<{ job_id: number; type: string; attempt: number; data: string | null }>(
    "SELECT job_id, type, attempt, data FROM _honker_ts_job_events WHERE queue = ? ORDER BY id",
    [queue],
  ).map((r) => [r.job_id, r.type, r.attempt, r.data === null ? null : JSON.parse(r.data)]);
}

for (const entry of driverMatrix()) {
  const skip = EXT_SKIP ?? entry.skip;
  const test = (name: string, body: PairBody) =>
    it(name, { skip, timeout: 30_000 }, withPair(entry, body));

  describe(`${entry.id} ↔ honker extension: job events`, () => {
    test(
      "honker's enqueue, claim, retry, ack, fail and cancel produce the trigger events",
      (db, ext) => {
        db.queue("q", { events: true });
        const a = ext.enqueue("q", "a");
        ext.claim("q", "hw", 1);
        ext.call("SELECT honker_retry(?, 'hw', 0, 'again')", [a]);
        ext.claim("q", "hw", 1);
        assert.equal(ext.call("SELECT honker_ack(?, 'hw')", [a]), 1);
        const b = ext.enqueue("q", "b");
        ext.claim("q", "hw", 1);
        ext.call("SELECT honker_fail(?, 'hw', 'boom')", [b]);
        const c = ext.enqueue("q", "c", { maxAttempts: 1 });
        ext.claim("q", "hw", 1);
        ext.call("SELECT honker_retry(?, 'hw', 0, 'last')", [c]);
        const d = ext.enqueue("q", "d");
        ext.call("SELECT honker_cancel(?)", [d]);
        const events = stored(db, "q").map(([id, type, attempt, data]) => {
          const { runAt: _, ...rest } = (data ?? {}) as Record<string, unknown>;
          return [id, type, attempt, data === null ? null : rest];
        });
        assert.deepEqual(events, [
          [a, "enqueued", 0, { priority: 0 }],
          [a, "active", 1, { workerId: "hw" }],
          [a, "retried", 1, {}],
          [a, "active", 2, { workerId: "hw" }],
          [a, "completed", 2, null],
          [b, "enqueued", 0, { priority: 0 }],
          [b, "active", 1, { workerId: "hw" }],
          [b, "dead", 1, { error: "boom" }],
          [c, "enqueued", 0, { priority: 0 }],
          [c, "active", 1, { workerId: "hw" }],
          [c, "dead", 1, { error: "last" }],
          [d, "enqueued", 0, { priority: 0 }],
          [d, "cancelled", 0, null],
        ]);
      },
    );

    test("a queue without events costs honker's writes nothing visible", (db, ext) => {
      db.queue("q");
      const id = ext.enqueue("q", 1);
      ext.claim("q", "hw", 1);
      ext.call("SELECT honker_ack(?, 'hw')", [id]);
      assert.deepEqual(stored(db, "q"), []);
    });

    test(
      "events() and waitFor() in honker-ts see a honker worker's claim and ack",
      async (db, ext) => {
        const q = db.queue("q", { events: true });
        const stop = new AbortController();
        const events = q.events({ since: 0, signal: stop.signal, idlePollMs: 20 });
        const id = q.enqueue({ n: 1 });
        const waited = q.waitFor(id, { idlePollMs: 20, timeoutMs: 10_000 });
        ext.claim("q", "hw", 1);
        ext.call("SELECT honker_result_save(?, '{\"ok\":1}', 60)", [id]);
        ext.call("SELECT honker_ack(?, 'hw')", [id]);
        assert.deepEqual(await waited, { ok: 1 });
        const types: string[] = [];
        for await (const event of events) {
          types.push(event.type);
          if (types.length === 3) break;
        }
        assert.deepEqual(types, ["enqueued", "active", "completed"]);
        const dying = q.enqueue(2, { maxAttempts: 1 });
        const failed = assert.rejects(
          q.waitFor(dying, { idlePollMs: 20, timeoutMs: 10_000 }),
          (e) => e instanceof JobFailedError && e.lastError === "honker said no",
        );
        ext.claim("q", "hw", 1);
        ext.call("SELECT honker_fail(?, 'hw', 'honker said no')", [dying]);
        await failed;
        stop.abort();
      },
    );
  });
}
