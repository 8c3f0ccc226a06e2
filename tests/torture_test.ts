// The multi-runtime torture run (tests/torture/run.ts), shortened: Node, Deno and Bun producers,
// workers and subscribers whose handlers throw at random, batch workers whose outcomes work()
// commits in batches (one of them SIGKILLing itself as a handler returns, before the commit), schedulers that re-add their schedule
// at start, and a process holding the write lock for seconds, all on one file; workers,
// subscribers, schedulers and the locker SIGKILLed (each at least once, from mid-run) and
// restarted; then every invariant checked from the file. About 40 s in all. The acceptance run
// is `npm run torture -- --seconds 600`.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runtimeKey } from "./_runtime.ts";
import { RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";

const RUN = fileURLToPath(new URL("./torture/run.ts", import.meta.url));
const SECONDS = 25;
/** Batch jobs per producer per second: a third of the acceptance run's, for CI's time. */
const BATCH_JOB_RATE = 10;

// One run covers all three runtimes at once, so it belongs to one suite only.
const skip = runtimeKey() !== "node"
  ? "the torture run starts Node, Deno and Bun processes itself, so it runs from the Node suite"
  : runtimeBinaryMissing();

describe("torture", () => {
  it(
    `Node, Deno and Bun processes keep every invariant through ${SECONDS} s of faults`,
    // Startup, the run, the drain and the stop take about 40 s; a hang ends the driver, whose
    // roles stop when their stdin closes.
    { skip, timeout: 120_000 },
    async (t) => {
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const child = spawn(RUNTIME_COMMANDS.node[0], [
        "--no-warnings",
        RUN,
        "--seconds",
        String(SECONDS),
        "--batch-job-rate",
        String(BATCH_JOB_RATE),
      ], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
        signal: t.signal,
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (exitCode) => resolve(exitCode));
      });
      for (const line of stdout.trimEnd().split("\n")) t.diagnostic(line);
      assert.equal(code, 0, `the torture run failed:\n${stdout}\n${stderr}`);
      assert.match(stdout, /^PASS$/m);
      // The window the batch checks are about was hit: a batch worker killed itself as a handler
      // returned (asked to from mid-run on), so at least that outcome never committed.
      assert.match(stdout, /^batch_worker kills .* by itself/m);
      const lost = Number(/^batch outcomes lost +(\d+)/m.exec(stdout)?.[1]);
      assert.ok(lost >= 1, `expected outcomes lost before work()'s commit, got ${lost}`);
    },
  );
});
