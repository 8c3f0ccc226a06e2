/**
 * What another process's commits cost a worker that has nothing to do with them: a `work()`
 * process waits on a queue nobody enqueues to, while a Node process enqueues to another queue
 * of the same file at a steady rate. Every commit raises file-system events in the waiting
 * process, which confirms them and looks for work it cannot find: with several worker
 * processes sharing a file, each commit of any of them costs every other one this much (issue
 * #16's herd, most of a loaded worker's CPU on a small machine).
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/herd_bench.ts
 * node_modules/.bin/node --no-warnings bench/herd_bench.ts --runtimes=deno --reps=5 --rate=2000
 * ```
 *
 * Options: `--runtimes=node,deno,bun` (the waiting process's runtime; all three by default),
 * `--reps=3` (runs per runtime, interleaved: node deno bun node deno bun …), `--rate=1000`
 * (commits a second), `--seconds=4` (the measured window), `--concurrency=8` (the waiting
 * worker's), `--quick` (one short run each: the smoke test).
 *
 * Printed per run and as the median per runtime: the waiting process's CPU per second before
 * the commits start (its idle floor) and while they run, its CPU per commit above that floor,
 * and its statements per commit (a look at its queue is one).
 *
 * @module
 */

import { join } from "node:path";
import process from "node:process";
import { listArg, readArgs, runBench, wholeNumberArg } from "./_args.ts";
import {
  Child,
  cleanUp,
  cleanUpOnExit,
  freshTmpDir,
  removeTempDir,
  RUNTIMES,
} from "./_wake_child.ts";
import type { Runtime } from "./_wake_child.ts";
import { sleep } from "./_wake_common.ts";
import { percentile } from "./_wake_report.ts";

const CHILD = "bench/_herd_child.ts";
const ANSWER_MS = 30_000;
/** How long the idle floor is measured, before the commits start. */
const IDLE_MS = 1_000;

interface Options {
  runtimes: Runtime[];
  reps: number;
  ratePerS: number;
  seconds: number;
  concurrency: number;
}

/** One run's figures. */
interface Figures {
  idleMsPerS: number;
  loadedMsPerS: number;
  usPerCommit: number;
  statementsPerCommit: number;
}

function fail(message: string): never {
  throw new TypeError(`Cannot run the herd benchmark: ${message}`);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) fail(`--${name} wants a positive number`);
  return value;
}

function parseOptions(argv: readonly string[]): Options {
  const options = ["runtimes", "reps", "rate", "seconds", "concurrency"];
  const { values, flags } = readArgs(argv, options, ["quick"], fail);
  const runtimes = listArg(values.get("runtimes") ?? RUNTIMES.join(","), RUNTIMES, "runtime", fail);
  const quick = flags.has("quick");
  return {
    runtimes,
    reps: wholeNumberArg("reps", values.get("reps"), quick ? 1 : 3, fail),
    ratePerS: positive("rate", values.get("rate"), quick ? 200 : 1000),
    seconds: positive("seconds", values.get("seconds"), quick ? 0.5 : 4),
    concurrency: wholeNumberArg("concurrency", values.get("concurrency"), 8, fail),
  };
}

/** CPU ms a second of a bystander's report. */
function msPerS(report: Record<string, unknown>): number {
  return ((report.cpuMs as number) * 1000) / (report.wallMs as number);
}

/** One run: a fresh file, a Node producer, a bystander on `runtime`. */
async function run(runtime: Runtime, options: Options): Promise<Figures> {
  const dir = freshTmpDir("honker-ts-herd-");
  const path = join(dir, "herd.db");
  const producer = new Child("producer", "node", CHILD, ["produce", path, `${options.ratePerS}`]);
  let bystander: Child | undefined;
  try {
    await producer.expect(["ready"], ANSWER_MS);
    bystander = new Child(`bystander on ${runtime}`, runtime, CHILD, [
      "bystander",
      path,
      `${options.concurrency}`,
    ]);
    await bystander.expect(["ready"], ANSWER_MS);
    bystander.send("mark");
    await sleep(IDLE_MS);
    bystander.send("report");
    const idle = await bystander.expect(["cpuMs"], ANSWER_MS);
    bystander.send("mark");
    producer.send("go");
    await sleep(options.seconds * 1000);
    bystander.send("report");
    const loaded = await bystander.expect(["cpuMs"], ANSWER_MS);
    producer.send("stop");
    const sent = (await producer.expect(["sent"], ANSWER_MS)).sent as number;
    bystander.send("exit");
    await bystander.expect(["bye"], ANSWER_MS);
    if (sent === 0) fail("the producer made no commit");
    const idleMsPerS = msPerS(idle);
    const aboveIdleMs = (loaded.cpuMs as number) - (idleMsPerS * (loaded.wallMs as number)) / 1000;
    return {
      idleMsPerS,
      loadedMsPerS: msPerS(loaded),
      usPerCommit: (aboveIdleMs * 1000) / sent,
      statementsPerCommit: (loaded.statements as number) / sent,
    };
  } finally {
    producer.kill();
    bystander?.kill();
    await Promise.all([producer.exited, bystander?.exited]);
    removeTempDir(dir);
  }
}

function line(label: string, values: number[], digits: number): string {
  const median = percentile([...values].sort((a, b) => a - b), 50);
  return `${label} ${values.map((v) => v.toFixed(digits)).join(" / ")} (${median.toFixed(digits)})`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  cleanUpOnExit();
  const results = new Map<Runtime, Figures[]>(options.runtimes.map((r) => [r, []]));
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const runtime of options.runtimes) {
      const figures = await run(runtime, options);
      results.get(runtime)!.push(figures);
      console.log(
        `herd run ${rep}, ${runtime}: idle ${figures.idleMsPerS.toFixed(1)} ms/s, loaded ` +
          `${figures.loadedMsPerS.toFixed(1)} ms/s, ${figures.usPerCommit.toFixed(0)} µs and ` +
          `${figures.statementsPerCommit.toFixed(2)} statements per commit`,
      );
    }
  }
  console.log(
    `\nA work() process (concurrency ${options.concurrency}) waiting on an empty queue while ` +
      `another process commits ${options.ratePerS}/s to another queue; runs / median\n`,
  );
  for (const [runtime, runs] of results) {
    console.log(
      [
        runtime.padEnd(5),
        line("idle ms/s", runs.map((r) => r.idleMsPerS), 1),
        line(" loaded ms/s", runs.map((r) => r.loadedMsPerS), 1),
        line(" µs per commit", runs.map((r) => r.usPerCommit), 0),
        line(" statements per commit", runs.map((r) => r.statementsPerCommit), 2),
      ].join(""),
    );
  }
}

try {
  await runBench(main);
} finally {
  cleanUp();
}
