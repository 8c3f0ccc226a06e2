/**
 * What this machine charges for the first work after a pause, which is what a woken worker
 * does: the claim's two statements (the pre-check read and the `UPDATE … RETURNING`) on a
 * connection whose page cache another connection's commit has just invalidated. Each is timed
 * back to back with that commit, and after a 5–14 ms gap spent sleeping or spinning (the wake
 * benchmark's commits come 2–20 ms apart). A control touches no SQLite and no file: a
 * `JSON.parse` of 7 KB, timed the same ways.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/claim_floor.ts
 * node_modules/.bin/deno run -A bench/claim_floor.ts
 * node_modules/.bin/bun bench/claim_floor.ts
 * node_modules/.bin/bun bench/claim_floor.ts --driver=node-sqlite
 * ```
 *
 * The statements run through the runtime's default adapter with honker's pragmas and SQL, and
 * none of honker-ts's claim logic: this is the floor under `queue.claimOne()` after a wake.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";
import { openDriver } from "../adapters/auto.ts";
import { driverArg } from "./_driver_arg.ts";
import { PRAGMAS_DEFAULT } from "../core/schema/sql.ts";
import { JOB_ACK } from "../core/queue/sql.ts";
import { JOB_CLAIM_ONE, JOB_CLAIM_PRECHECK } from "../core/queue/claim_sql.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { percentile } from "./_wake_report.ts";

const ROUNDS = 300;
const driverName = driverArg();
const INSERT = "INSERT INTO _honker_live (queue, payload) VALUES ('q', '{\"n\":1}')";
const CONTROL = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ i, s: `x${i}` })));

type Gap = "none" | "sleep" | "spin";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pause(gap: Gap, ms: number): Promise<void> {
  if (gap === "sleep") await sleep(ms);
  else if (gap === "spin") {
    const end = performance.now() + ms;
    while (performance.now() < end);
  }
}

const dir = mkdtempSync(join(tmpdir(), "honker-ts-claim-floor-"));
try {
  const path = join(dir, "floor.db");
  (await open(path, { wake: "poll" })).close(); // honker's schema
  const writer = await openDriver(path, driverName);
  const worker = await openDriver(path, driverName);
  for (const pragma of PRAGMAS_DEFAULT) (writer.exec(pragma), worker.exec(pragma));
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const rows: string[][] = [];
  // "none" runs first and last, so JIT warm-up cannot pass for the gap's cost.
  for (const gap of ["none", "sleep", "spin", "none"] as const) {
    const precheck: number[] = [];
    const update: number[] = [];
    const control: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      writer.run(INSERT);
      const ms = 5 + (i % 10);
      await pause(gap, ms);
      const t0 = performance.now();
      worker.get(JOB_CLAIM_PRECHECK, ["q", "q", "q"]);
      const t1 = performance.now();
      const [row] = worker.all<{ id: number }>(JOB_CLAIM_ONE, ["w", 30, "q", "q"]);
      const t2 = performance.now();
      worker.run(JOB_ACK, [row.id, "w"]);
      await pause(gap, ms);
      const t3 = performance.now();
      JSON.parse(CONTROL);
      control.push(performance.now() - t3);
      precheck.push(t1 - t0);
      update.push(t2 - t1);
    }
    const total = precheck.map((p, i) => p + update[i]);
    rows.push([
      gap === "none" ? "back to back" : `after a 5–14 ms ${gap}`,
      ...[precheck, update, total, control].map((xs) => median(xs).toFixed(3)),
    ]);
  }
  writer.close();
  worker.close();
  const head = ["gap", "pre-check p50 ms", "UPDATE p50 ms", "claim p50 ms", "JSON.parse p50 ms"];
  console.log(`\nClaim floor on ${runtimeKey()} (${worker.name}), ${ROUNDS} rounds each\n`);
  console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
