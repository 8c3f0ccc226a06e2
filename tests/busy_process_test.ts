// A database busy for seconds must not freeze a worker process: while another process holds the
// write lock for 3 s, a worker's timers fire on time (its claims, acks and heartbeats wait briefly
// and retry asynchronously instead of sitting in SQLite's busy handler on the main thread).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import { collect, spawnScript } from "./_spawn.ts";
import { tempDbPath } from "./_helpers.ts";

const WORKER = fileURLToPath(new URL("./fixtures/busy_worker.ts", import.meta.url));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The bound on how late a worker's timer may fire while the database is busy. */
const MAX_TIMER_LATENESS_MS = 250;

describe("a busy database", () => {
  it(
    "while another process holds the write lock for 3 s, a worker process's timers fire no more than 250 ms late",
    { timeout: 60_000 },
    async () => {
      const path = tempDbPath();
      const db = await open(path);
      db.queue<number>("jobs").enqueueMany(Array.from({ length: 40 }, (_, i) => i));
      db.close();
      const child = spawnScript(WORKER, [path]);
      const output = collect(child);
      await new Promise<void>((resolve) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (String(chunk).includes('"ready"')) resolve();
        });
      });
      await sleep(500); // handlers running, heartbeats due
      const locker = await openDriver(path);
      locker.exec("BEGIN IMMEDIATE");
      await sleep(3000);
      locker.exec("COMMIT");
      locker.close();
      await sleep(1000);
      child.stdin.write("stop\n");
      child.stdin.end();
      const { code, stdout, stderr } = await output;
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout.trim().split("\n").at(-1) as string);
      assert.ok(
        report.maxLateMs <= MAX_TIMER_LATENESS_MS,
        `a timer fired ${report.maxLateMs.toFixed(0)} ms late: ${stdout}`,
      );
      assert.equal(report.result.lost, 0, stdout);
      assert.ok(report.handled >= 4, `only ${report.handled} jobs handled: ${stdout}`);
    },
  );
});
