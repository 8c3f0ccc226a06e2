// pause() in one process stops the claims of a work() loop in another, whose idle poll is 60 s:
// the other queue keeps being served, jobs enqueued while paused wait, and resume() (a commit)
// wakes the other process at once, within the usual cross-process wake latency.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { removeTempDirs, sleep, tempDbPath } from "./_helpers.ts";
import { exited, LineReader, spawnScript } from "./_spawn.ts";

const WORKER = fileURLToPath(new URL("./fixtures/pause_worker.ts", import.meta.url));
after(removeTempDirs);

interface Handled {
  queue: string;
  n: number;
  atMs: number;
}

describe("queue pause across processes", () => {
  it("pause() stops another process's work() loop, other queues go on, resume() wakes it at once", {
    timeout: 60_000,
  }, async () => {
    const path = tempDbPath();
    const db = await open(path);
    const a = db.queue("a");
    const b = db.queue("b");
    const child = spawnScript(WORKER, [path]);
    const lines = new LineReader(child);
    const handled = (): Handled[] =>
      lines.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Handled);
    try {
      await lines.waitFor(/^ready$/, 30_000);
      a.enqueue({ n: 1 });
      await lines.waitFor(/"queue":"a","n":1/, 10_000);
      a.pause();
      a.enqueue({ n: 2 });
      b.enqueue({ n: 3 });
      await lines.waitFor(/"queue":"b","n":3/, 10_000);
      await sleep(500);
      assert.deepEqual(handled().map((h) => h.n), [1, 3], "a's job 2 waits while a is paused");
      assert.equal(a.stats().pending, 1);
      const resumedAt = Date.now();
      a.resume();
      await lines.waitFor(/"queue":"a","n":2/, 10_000);
      const latencyMs = handled().find((h) => h.n === 2)!.atMs - resumedAt;
      assert.ok(latencyMs < 2000, `picked up ${latencyMs} ms after resume (idle poll 60 s)`);
    } finally {
      child.stdin.end();
      await exited(child);
      db.close();
    }
  });
});
