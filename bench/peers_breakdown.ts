/**
 * Sums the statement files a peers run wrote with `PEERS_SQL_BREAKDOWN=DIR` (one per honker-ts
 * process, producer and workers): per SQL text, how many ran, per job, their time, and how many
 * took over 0.8 ms (a wait for another process's write lock, in SQLite's busy handler). The
 * time of a statement includes that wait, and the cold page cache after another process's
 * commit.
 *
 * ```sh
 * PEERS_SQL_BREAKDOWN=/tmp/brk node_modules/.bin/node --no-warnings bench/peers.ts \
 *   --runtimes=bun --only=load-latency --reps=1
 * node_modules/.bin/node --no-warnings bench/peers_breakdown.ts /tmp/brk --jobs=3300
 * ```
 *
 * `--jobs=N` (the jobs the run handled from "go": load-latency's 3,000 and its 300 warm-up
 * jobs) adds the per-job column. Run one case and one runtime per directory.
 *
 * @module
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import type { SqlCost } from "./_peers_counting.ts";

const dir = process.argv.slice(2).find((a) => !a.startsWith("--"));
const jobsArg = process.argv.find((a) => a.startsWith("--jobs="))?.slice("--jobs=".length);
const jobs = jobsArg === undefined ? undefined : Number(jobsArg);
if (dir === undefined || (jobs !== undefined && !(jobs > 0))) {
  console.error("usage: peers_breakdown.ts DIR [--jobs=N]  (DIR as PEERS_SQL_BREAKDOWN was set)");
  process.exit(2);
}

/** SQL texts run fewer times than this are summed in one line. */
const RARE_BELOW = 5;

const sums = new Map<string, SqlCost>();
let total = 0;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
  const dump = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
    total: number;
    costBySql: [string, SqlCost][];
  };
  total += dump.total;
  for (const [sql, cost] of dump.costBySql) {
    const text = sql.replace(/\s+/g, " ").trim();
    const sum = sums.get(text) ?? { count: 0, ms: 0, waited: 0 };
    sums.set(text, {
      count: sum.count + cost.count,
      ms: sum.ms + cost.ms,
      waited: sum.waited + cost.waited,
    });
  }
}

const perJob = (n: number) => (jobs === undefined ? "" : (n / jobs).toFixed(2).padStart(9));
console.log(
  `${"count".padStart(7)}${jobs === undefined ? "" : "  per job"} ${"ms".padStart(8)} ` +
    `${"µs each".padStart(8)} ${">0.8 ms".padStart(8)}  statement`,
);
let rare = 0;
for (const [sql, c] of [...sums].sort((a, b) => b[1].ms - a[1].ms)) {
  // Set-up statements (schema, pragmas) run once per process: summed in one line.
  if (c.count < RARE_BELOW) {
    rare += c.count;
    continue;
  }
  const each = (c.ms * 1000) / c.count;
  console.log(
    `${String(c.count).padStart(7)}${perJob(c.count)} ${c.ms.toFixed(0).padStart(8)} ` +
      `${each.toFixed(0).padStart(8)} ${String(c.waited).padStart(8)}  ${sql.slice(0, 70)}`,
  );
}
console.log(
  `${String(rare).padStart(7)}${perJob(rare)}  statements run fewer than ${RARE_BELOW} times each`,
);
console.log(`${String(total).padStart(7)}${perJob(total)}  statements in all`);
