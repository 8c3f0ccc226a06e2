/**
 * An A/B of honker-ts alone on one of `peers.ts`'s cases: two variants run alternately, pair by
 * pair (the order flips every pair, so neither always runs first), on the same machine in one
 * sitting, and each figure is printed per run and as a median. On a shared, noisy machine this
 * is how a change that claims speed is measured: its predecessor beside it, never a number
 * remembered from another day.
 *
 * A variant is a source tree (`--old=DIR`: a `git worktree add` of the commit before, with
 * `node_modules` linked in), or this tree under other environment variables (`--env=A,B`, each
 * `NAME=value` joined by `+`: for a switch read by code under test, never committed). Each
 * variant's own `bench/_peers_cases.ts` runs its cases, so its worker processes run its code.
 *
 * ```sh
 * git worktree add /tmp/ab/old HEAD~1 && ln -s "$PWD/node_modules" /tmp/ab/old/node_modules
 * node_modules/.bin/node --no-warnings bench/ab.ts --old=/tmp/ab/old --case=load-latency --runtimes=bun
 * node_modules/.bin/node --no-warnings bench/ab.ts --env=EXP=0,EXP=1 --case=idle-latency --pairs=5
 * ```
 *
 * Options: `--case=KEY` (one of peers.ts's cases; load-latency by default), `--runtimes=node,…`
 * (the one running this file by default), `--pairs=N` (3), `--driver=NAME`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { runtimeKey } from "../platform/runtime.ts";
import type { CaseDef, Metrics, Sizes, Target } from "./_peers_cases.ts";
import { listArg, readArgs, runBench, wholeNumberArg } from "./_args.ts";
import { medianOf } from "./_peers_report.ts";
import type { SystemPlace } from "./_peers_system.ts";
import { cleanUpOnExit, freshTmpDir, removeTempDir, ROOT, RUNTIMES } from "./_wake_child.ts";

/** One side of the A/B: where its cases come from, and the environment it runs under. */
interface Variant {
  label: string;
  tree: string;
  env: Record<string, string>;
}

interface Args {
  variants: [Variant, Variant];
  caseKey: string;
  runtimes: string[];
  pairs: number;
  driver?: string;
}

function fail(message: string): never {
  throw new TypeError(`Cannot run the A/B: ${message}`);
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("+").filter(Boolean).map((pair) => {
      const at = pair.indexOf("=");
      if (at < 1) fail(`--env wants NAME=value pairs, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function parseArgs(argv: string[]): Args {
  const options = ["old", "env", "case", "runtimes", "pairs", "driver"];
  const { values } = readArgs(argv, options, [], fail);
  const old = values.get("old");
  const env = values.get("env");
  if ((old === undefined) === (env === undefined)) fail("give either --old=DIR or --env=A,B");
  let variants: [Variant, Variant];
  if (old !== undefined) {
    variants = [
      { label: "new", tree: ROOT, env: {} },
      { label: "old", tree: resolve(old), env: {} },
    ];
  } else {
    const sides = env!.split(",");
    if (sides.length !== 2) fail(`--env wants two environments, got ${sides.length}`);
    variants = [
      { label: sides[0], tree: ROOT, env: parseEnv(sides[0]) },
      { label: sides[1], tree: ROOT, env: parseEnv(sides[1]) },
    ];
  }
  const runtimes = listArg(values.get("runtimes") ?? runtimeKey(), RUNTIMES, "runtime", fail);
  const pairs = wholeNumberArg("pairs", values.get("pairs"), 3, fail);
  return {
    variants,
    caseKey: values.get("case") ?? "load-latency",
    runtimes,
    pairs,
    driver: values.get("driver"),
  };
}

/** The tree's own case definitions and sizes. */
async function casesOf(tree: string): Promise<{ cases: readonly CaseDef[]; sizes: Sizes }> {
  const url = pathToFileURL(join(tree, "bench", "_peers_cases.ts")).href;
  const module = await import(url) as { CASES: readonly CaseDef[]; FULL: Sizes };
  return { cases: module.CASES, sizes: module.FULL };
}

/** One run of `caseKey` on honker-ts, on a fresh file, under the variant's environment. */
async function runOnce(variant: Variant, runtime: string, args: Args): Promise<Metrics> {
  const { cases, sizes } = await casesOf(variant.tree);
  const caseDef = cases.find((c) => c.key === args.caseKey) ??
    fail(`${variant.tree} has no case "${args.caseKey}" (${cases.map((c) => c.key)})`);
  const saved = Object.keys(variant.env).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, variant.env);
  const dir = freshTmpDir("honker-ts-ab-");
  try {
    const place = { path: join(dir, "queue.db"), driver: args.driver } as SystemPlace;
    return await caseDef.run({ system: "honker", runtime } as Target, place, sizes);
  } finally {
    removeTempDir(dir);
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

function figure(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

async function main(): Promise<void> {
  cleanUpOnExit();
  const args = parseArgs(process.argv.slice(2));
  const runs = new Map<string, Metrics[]>();
  for (let pair = 0; pair < args.pairs; pair++) {
    for (const runtime of args.runtimes) {
      const order = pair % 2 === 0 ? args.variants : [...args.variants].reverse();
      for (const variant of order) {
        const metrics = await runOnce(variant, runtime, args);
        const key = `${runtime} ${variant.label}`;
        runs.set(key, [...(runs.get(key) ?? []), metrics]);
        const brief = Object.entries(metrics).map(([k, v]) => `${k} ${figure(v)}`).join(", ");
        process.stderr.write(`pair ${pair + 1}, ${key}: ${brief}\n`);
      }
    }
  }
  console.log(
    `\n${args.caseKey}, honker-ts alone, ${args.pairs} pair(s), each run: ` +
      "value per run / median\n",
  );
  for (const [key, list] of runs) {
    const cells = Object.keys(list[0]).map((name) => {
      const values = list.map((m) => m[name]);
      return `${name} ${values.map(figure).join(" / ")} (${figure(medianOf(values) ?? NaN)})`;
    });
    console.log(`${key.padEnd(24)} ${cells.join("  ")}`);
  }
}

await runBench(main);
