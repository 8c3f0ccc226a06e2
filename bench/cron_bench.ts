/**
 * Schedule benchmark: `nextFireAfter()` for the expressions of runtimes notes §6, beside
 * croner's own `nextRun()` and honker's `honker_cron_next_after` (its loadable extension in a
 * node:sqlite connection, prepared once).
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/cron_bench.ts
 * node_modules/.bin/deno run -A bench/cron_bench.ts
 * node_modules/.bin/bun bench/cron_bench.ts
 * ```
 *
 * The time zone is process-wide, so without `TZ=America/New_York` the script re-runs itself
 * with it. Each call starts from the same instant (a Sunday, 2026-04-19 12:00 New York time);
 * ours uses its parse cache as the scheduler does. croner gets `timezone: "America/New_York"`
 * for the New York case, as in the notes, and runs in local time (the same zone, its faster
 * path) for the others; `L` and `#` are extended syntax, which honker cannot read.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { Cron } from "croner";
import { nextFireAfter } from "../core/scheduler/cron/cron.ts";
import { childArgv } from "../tests/_spawn.ts";

const TZ = "America/New_York";
const FROM_S = 1_776_614_400; // 2026-04-19T12:00:00-04:00
const EXT_PATH = fileURLToPath(
  new URL(
    "../node_modules/@russellthehippo/honker-ext-linux-x64-gnu/libhonker_ext.so",
    import.meta.url,
  ),
);

/** [label, expression, extended syntax, croner's timezone option] */
const CASES: Array<[string, string, boolean, string?]> = [
  ["*/5 * * * * *", "*/5 * * * * *", false],
  ["0 9 * * 1-5 (New York)", "0 9 * * 1-5", false, TZ],
  ["0 0 L * * (extended)", "0 0 L * *", true],
  ["0 0 * * 1#2 (extended)", "0 0 * * 1#2", true],
];

type Statement = { get(...params: unknown[]): Record<string, unknown> | undefined };
type Mod = {
  DatabaseSync: new (path: string, options: object) => {
    loadExtension(path: string): void;
    prepare(sql: string): Statement;
  };
};

/** honker's function on a prepared statement, or why it cannot run here. */
async function honkerNext(): Promise<((expr: string, from: number) => unknown) | string> {
  try {
    const { DatabaseSync } = await import("node:sqlite") as unknown as Mod;
    const db = new DatabaseSync(":memory:", { allowExtension: true });
    db.loadExtension(EXT_PATH);
    const stmt = db.prepare("SELECT honker_cron_next_after(?, ?) AS v");
    return (expr, from) => stmt.get(expr, BigInt(from))!.v;
  } catch (error) {
    return `honker's extension is unavailable: ${(error as Error).message}`;
  }
}

async function main(): Promise<void> {
  const honker = await honkerNext();
  if (typeof honker === "string") console.log(honker);
  const from = new Date(FROM_S * 1000);
  for (const [label, expr, extendedSyntax, timezone] of CASES) {
    const cron = new Cron(expr, { timezone, domAndDow: true });
    const ours = nextFireAfter(expr, FROM_S, { extendedSyntax });
    const theirs = cron.nextRun(from)!.getTime() / 1000;
    console.log(`${label}: ours ${ours}, croner ${theirs}`);
    group(label, () => {
      summary(() => {
        bench("honker-ts nextFireAfter", () => {
          do_not_optimize(nextFireAfter(expr, FROM_S, { extendedSyntax }));
        }).baseline(true);
        bench("croner nextRun", () => do_not_optimize(cron.nextRun(from)));
        if (typeof honker !== "string" && !extendedSyntax) {
          bench("honker_cron_next_after", () => do_not_optimize(honker(expr, FROM_S)));
        }
      });
    });
  }
  await run();
}

if (process.env.TZ === TZ) {
  await main();
} else {
  const [command, argv] = childArgv(fileURLToPath(import.meta.url));
  const child = spawnSync(command, argv, { stdio: "inherit", env: { ...process.env, TZ } });
  process.exitCode = child.status ?? 1;
}
