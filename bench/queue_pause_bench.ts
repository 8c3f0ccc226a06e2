/**
 * What a paused queue costs its idle workers (issue #19): nothing more than an empty queue.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/queue_pause_bench.ts [--quick] [--driver=NAME]
 * node_modules/.bin/deno run -A bench/queue_pause_bench.ts
 * node_modules/.bin/bun bench/queue_pause_bench.ts
 * ```
 *
 * Two measurements, each of a paused queue holding a backlog of due jobs against an empty,
 * unpaused queue, in the same run on one file:
 *
 * - the look an idle worker makes after each wake-up or idle poll (`claimInBackground`, what
 *   `work()` and `claim()` run), timed by mitata: a paused backlog must be as cheap to look at
 *   as nothing, not a walk of the backlog. Target: paused / empty ≤ 1.5.
 * - idle `work()` loops with a short idle poll, run for a while: statements per second (a
 *   counting driver) and CPU per second. Target: statements paused / empty within 0.9–1.1 (the
 *   same polls, the same one look each), CPU ≤ 1.5.
 *
 * `--quick` uses tiny sizes (for the test that runs it on each runtime).
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { bench, do_not_optimize, run, summary } from "mitata";
import { fromDriver } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import type { Database } from "../mod.ts";
import { driverArg } from "./_driver_arg.ts";
import { statementLog } from "../tests/_statement_log.ts";
import { runtimeKey } from "../tests/_runtime.ts";

const quick = process.argv.includes("--quick");
const BACKLOG = quick ? 200 : 50_000;
const WORKERS = quick ? 4 : 32;
const IDLE_POLL_MS = 10;
const IDLE_RUN_MS = quick ? 300 : 3_000;
const EMPTY = "empty";
const PAUSED = "paused";

/** Statements and CPU of `WORKERS` idle work() loops on `queue`, per second. */
async function idleCost(
  db: Database,
  log: { log: unknown[] },
  queue: string,
): Promise<{ statementsPerS: number; cpuMsPerS: number }> {
  const stop = new AbortController();
  const runs = Array.from(
    { length: WORKERS },
    () => db.queue(queue).work(() => {}, { signal: stop.signal, idlePollMs: IDLE_POLL_MS }),
  );
  await new Promise((resolve) => setTimeout(resolve, 100)); // every first look done
  log.log.length = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, IDLE_RUN_MS));
  const elapsedS = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const statements = log.log.length;
  stop.abort();
  await Promise.all(runs);
  return {
    statementsPerS: statements / elapsedS,
    cpuMsPerS: (used.user + used.system) / 1000 / elapsedS,
  };
}

function verdict(ratio: number, ok: boolean): string {
  return `${ratio.toFixed(2)}× ${ok ? "(target met)" : "(target NOT met)"}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-pause-bench-"));
  const driverName = driverArg();
  const log = statementLog(await openDriver(join(dir, "pause.db"), driverName));
  log.recording = false;
  const db = fromDriver(log);
  try {
    const paused = db.queue(PAUSED);
    for (let done = 0; done < BACKLOG; done += 1000) {
      paused.enqueueMany(Array.from({ length: Math.min(1000, BACKLOG - done) }, (_, n) => ({ n })));
    }
    paused.pause();
    const empty = db.queue(EMPTY);
    console.log(
      `queue_pause_bench on ${runtimeKey()}, driver ${log.name}: a paused queue with ` +
        `${BACKLOG} due jobs against an empty queue${quick ? " (--quick)" : ""}`,
    );
    summary(() => {
      bench("look: empty queue", () => do_not_optimize(empty.claimInBackground("w", 1)));
      bench(
        `look: paused, ${BACKLOG} due`,
        () => do_not_optimize(paused.claimInBackground("w", 1)),
      );
    });
    const { benchmarks } = await run({ throw: true });
    const avg = (i: number) => benchmarks[i]?.runs[0]?.stats?.avg ?? NaN;
    const lookRatio = avg(1) / avg(0);
    log.recording = true;
    const idleEmpty = await idleCost(db, log, EMPTY);
    const idlePaused = await idleCost(db, log, PAUSED);
    log.recording = false;
    if (paused.stats().pending !== BACKLOG) throw new Error("Cannot bench: a paused job was taken");
    const stmtRatio = idlePaused.statementsPerS / idleEmpty.statementsPerS;
    const cpuRatio = idlePaused.cpuMsPerS / idleEmpty.cpuMsPerS;
    const f = (n: number) => n.toFixed(1).padStart(10);
    console.log(
      `\n${WORKERS} idle work() loops, idlePollMs ${IDLE_POLL_MS}, ${IDLE_RUN_MS} ms each:`,
    );
    console.log(`${"".padEnd(24)}${"empty".padStart(10)}${"paused".padStart(10)}  paused / empty`);
    console.log(
      `${"look µs (mean)".padEnd(24)}${f(avg(0) / 1000)}${f(avg(1) / 1000)}  ` +
        verdict(lookRatio, lookRatio <= 1.5),
    );
    console.log(
      `${"statements / s".padEnd(24)}${f(idleEmpty.statementsPerS)}${
        f(idlePaused.statementsPerS)
      }  ${verdict(stmtRatio, stmtRatio >= 0.9 && stmtRatio <= 1.1)}`,
    );
    console.log(
      `${"CPU ms / s".padEnd(24)}${f(idleEmpty.cpuMsPerS)}${f(idlePaused.cpuMsPerS)}  ` +
        verdict(cpuRatio, cpuRatio <= 1.5),
    );
  } finally {
    db.close();
    log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
