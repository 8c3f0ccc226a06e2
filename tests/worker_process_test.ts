// Workers across processes (issue #19): a real SIGTERM to a child running
// examples/graceful_shutdown.ts loses nothing, and a job's timeoutS and backoff set by another
// process are honoured.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { JobTimeoutError } from "../mod.ts";
import { sqlNow } from "./_db.ts";
import { eventually, tempDbPath } from "./_helpers.ts";
import { collect, LineReader, runScript, spawnScript } from "./_spawn.ts";

const EXAMPLE = fileURLToPath(new URL("../examples/graceful_shutdown.ts", import.meta.url));
const ENQUEUER = fileURLToPath(new URL("./fixtures/enqueue_with_options.ts", import.meta.url));

describe("graceful shutdown on a real SIGTERM", () => {
  it(
    "handlers in flight finish and commit, the child exits 0, and no job is lost or left claimed",
    { timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const child = spawnScript(EXAMPLE, [path]);
      const lines = new LineReader(child);
      const ended = collect(child);
      // The second wave is in flight (four at a time, 150 ms each).
      await lines.waitForCount(/^start \d+$/, 6, 30_000);
      // Not child.kill(): on Deno that reports the signal as the exit cause even when the child
      // handled it and exited 0.
      process.kill(child.pid as number, "SIGTERM");
      const result = await ended;
      assert.equal(result.code, 0, `signal ${result.signal}: ${result.stderr}`);
      const out = lines.lines;
      const started = out.filter((l) => l.startsWith("start ")).map((l) => Number(l.slice(6)));
      const done = out.filter((l) => l.startsWith("done ")).map((l) => Number(l.slice(5)));
      assert.ok(started.length < 12, "the signal came before the queue was empty");
      assert.deepEqual([...done].sort(), [...started].sort(), "every started handler finished");
      const stopped = out.find((l) => l.startsWith("stopped (SIGTERM): "));
      assert.ok(stopped, out.join("\n"));
      const totals = JSON.parse(stopped.slice("stopped (SIGTERM): ".length));
      assert.deepEqual(totals, { acked: done.length, retried: 0, dead: 0, lost: 0 });
      // The file afterwards: every job is sent or still pending for the next worker, never both,
      // never claimed by the stopped worker.
      const db = await open(path);
      try {
        const sent = db.driver.all<{ job_id: number }>("SELECT job_id FROM sent ORDER BY job_id");
        assert.deepEqual(sent.map((r) => r.job_id), [...done].sort((a, b) => a - b));
        const live = db.driver.all<{ id: number; state: string }>(
          "SELECT id, state FROM _honker_live ORDER BY id",
        );
        assert.ok(live.every((r) => r.state === "pending"), JSON.stringify(live));
        assert.equal(sent.length + live.length, 12);
      } finally {
        db.close();
      }
    },
  );
});

describe("run options set by another process", () => {
  it("a job's timeoutS and backoff enqueued by a child process are honoured", {
    timeout: 60_000,
  }, async () => {
    const path = tempDbPath();
    const db = await open(path);
    try {
      const q = db.queue<string>("jobs", { maxAttempts: 2 });
      const options = JSON.stringify({ timeoutS: 1, backoff: { type: "fixed", delayS: 42 } });
      const enqueued = await runScript(ENQUEUER, [path, "jobs", options]);
      assert.equal(enqueued.code, 0, enqueued.stderr);
      const id = Number(enqueued.stdout.trim());
      const errors: unknown[] = [];
      // The worker's own timeout and backoff would never fire within this test.
      const worker = q.worker(() => new Promise((resolve) => setTimeout(resolve, 5000)), {
        timeoutS: 3600,
        retryDelayS: 3600,
        onError: (error) => errors.push(error),
      });
      await eventually(() => worker.retried === 1, 10_000, "the timed-out attempt");
      await worker.close({ graceMs: 0 });
      assert.ok(errors[0] instanceof JobTimeoutError, String(errors[0]));
      const job = q.getJob(id);
      assert.equal(job?.state, "pending");
      const delayS = (job?.runAt ?? 0) - sqlNow(db);
      assert.ok(Math.abs(delayS - 42) <= 1, `retried ${delayS} s later, expected 42`);
    } finally {
      db.close();
    }
  });
});
