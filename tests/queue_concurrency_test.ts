/**
 * Cross-process queue behaviour with real child processes of the runtime running the tests:
 * four workers draining one queue never lose or double-process a job, and a job held by a
 * worker that is SIGKILLed comes back once its visibility timeout lapses.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { open } from "../mod.ts";
import type { Database, DriverName } from "../mod.ts";
import { removeTempDirs, tempDbPath } from "./_helpers.ts";
import { runtimeKey } from "./_runtime.ts";
import { collect, LineReader, spawnScript } from "./_spawn.ts";
import type { ChildResult } from "./_spawn.ts";

const WORKER_SCRIPT = fileURLToPath(new URL("./fixtures/claim_worker.ts", import.meta.url));
const JOB_COUNT = 2_000;
const WORKER_COUNT = 4;
const TEST_TIMEOUT_MS = 60_000;

/** The drivers this file covers: each runtime's default, plus node:sqlite and bun:ffi on Bun. */
const DRIVERS: { name: DriverName; skip: string | undefined }[] = [
  { name: "node-sqlite", skip: undefined },
  { name: "bun-sqlite", skip: runtimeKey() === "bun" ? undefined : "bun:sqlite needs Bun" },
  { name: "bun-ffi", skip: runtimeKey() === "bun" ? undefined : "bun:ffi needs Bun" },
];

/** A started drain worker: `ready` resolves once it has opened the database. */
interface RunningWorker {
  ready: Promise<unknown>;
  go(): void;
  done: Promise<ChildResult>;
}

function startDrainWorker(args: string[]): RunningWorker {
  const child = spawnScript(WORKER_SCRIPT, args);
  const done = collect(child);
  // A worker that dies before it is ready must not hang the barrier: its exit ends the wait.
  const ready = new LineReader(child).waitFor(/^\{"ready":true\}$/, TEST_TIMEOUT_MS).catch(
    () => {},
  );
  return { ready, go: () => child.stdin.end("go\n"), done };
}

/** The last JSON line a worker printed. */
function lastJsonLine<T>(result: ChildResult, label: string): T {
  const lines = result.stdout.trim().split("\n").filter((line) => line.startsWith("{"));
  assert.ok(
    lines.length > 0,
    `${label} printed no result (exit ${result.code}, signal ${result.signal}): ${result.stderr}`,
  );
  return JSON.parse(lines[lines.length - 1]) as T;
}

function count(db: Database, table: "_honker_live" | "_honker_dead"): number {
  return Number(db.driver.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`)?.n);
}

function assertIntegrity(db: Database): void {
  const rows = db.driver.all<{ integrity_check: string }>("PRAGMA integrity_check");
  assert.deepEqual(rows.map((row) => row.integrity_check), ["ok"]);
}

function duplicates(ids: number[]): number[] {
  const seen = new Set<number>();
  return ids.filter((id) => seen.has(id) || (seen.add(id), false));
}

after(() => removeTempDirs());

for (const { name: driver, skip } of DRIVERS) {
  describe(`${driver}: queue across processes`, () => {
    test(
      `${WORKER_COUNT} worker processes drain ${JOB_COUNT} jobs, each acked exactly once`,
      { skip, timeout: TEST_TIMEOUT_MS },
      async (t) => {
        const path = tempDbPath();
        const db = await open(path, { driver });
        try {
          const ids = db.queue<{ n: number }>("concurrency").enqueueMany(
            Array.from({ length: JOB_COUNT }, (_, n) => ({ n })),
          );
          const workers = Array.from(
            { length: WORKER_COUNT },
            (_, i) => startDrainWorker([path, driver, `worker-${i}`, "drain", "concurrency"]),
          );
          // Start claiming together, so slow child start-up cannot let one worker drain alone.
          await Promise.all(workers.map((worker) => worker.ready));
          for (const worker of workers) worker.go();
          const results = await Promise.all(workers.map((worker) => worker.done));
          const reports = results.map((result, i) => {
            assert.equal(
              result.code,
              0,
              `worker-${i} exited with ${result.code}: ${result.stderr}`,
            );
            return lastJsonLine<{ claimed: number[]; acked: number[] }>(result, `worker-${i}`);
          });
          t.diagnostic(`acked per worker: ${reports.map((r) => r.acked.length).join(", ")}`);
          const claimed = reports.flatMap((report) => report.claimed);
          const acked = reports.flatMap((report) => report.acked);
          assert.deepEqual(duplicates(claimed), [], "a job was claimed by two workers");
          assert.deepEqual(duplicates(acked), [], "a job was acked twice");
          assert.deepEqual([...acked].sort((a, b) => a - b), ids);
          assert.equal(count(db, "_honker_live"), 0);
          assert.equal(count(db, "_honker_dead"), 0);
          assertIntegrity(db);
        } finally {
          db.close();
        }
      },
    );

    test(
      "a job held by a SIGKILLed worker is reclaimed with attempts 2 after its visibility timeout",
      { skip, timeout: TEST_TIMEOUT_MS },
      async () => {
        const path = tempDbPath();
        const db = await open(path, { driver });
        const queue = db.queue<{ n: number }>("reclaim", { visibilityTimeoutS: 1 });
        const id = queue.enqueue({ n: 7 });
        const child = spawnScript(WORKER_SCRIPT, [path, driver, "doomed", "hold", "reclaim", "1"]);
        child.stdin.end();
        try {
          const held = JSON.parse(await new LineReader(child).waitFor(/^\{/, TEST_TIMEOUT_MS)) as {
            claimed: number;
            claimExpiresAt: number;
          };
          const heldAtMs = Date.now();
          assert.equal(held.claimed, id);
          assert.equal(queue.getJob(id)?.state, "processing");
          assert.equal(queue.getJob(id)?.workerId, "doomed");

          const exited = new Promise((resolve) => child.on("close", resolve));
          child.kill("SIGKILL");
          await exited;
          const nowS = Number(db.driver.get<{ now: number }>("SELECT unixepoch() AS now")?.now);
          // Still inside the claim window: the dead worker's claim must keep the job hidden.
          if (nowS < held.claimExpiresAt) assert.equal(queue.claimOne("rescuer"), null);

          // The claim is reclaimable from second claim_expires_at + 1; 2.1 s after it was taken
          // that second has begun, whatever the sub-second phase of the claim.
          await new Promise((resolve) => setTimeout(resolve, 2_100 - (Date.now() - heldAtMs)));
          const job = queue.claimOne("rescuer");
          assert.ok(job, "the job held by the killed worker was not reclaimed");
          assert.equal(job.id, id);
          assert.equal(job.attempts, 2);
          assert.deepEqual(job.payload, { n: 7 });
          assert.equal(job.ack(), true);
          assert.equal(count(db, "_honker_live"), 0);
          assert.equal(count(db, "_honker_dead"), 0);
          assertIntegrity(db);
        } finally {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          db.close();
        }
      },
    );
  });
}
