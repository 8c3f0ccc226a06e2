/**
 * Unique-jobs benchmark (issue #19): what a key costs an enqueue (new, over a stale row,
 * duplicate, debounce), and what keyed jobs cost a claim+ack, each against the plain path
 * measured in the same run on the same driver.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/keys_bench.ts
 * node_modules/.bin/deno run -A bench/keys_bench.ts
 * node_modules/.bin/bun bench/keys_bench.ts --driver=bun-ffi   # any built-in adapter
 * node_modules/.bin/node --no-warnings bench/keys_bench.ts --quick   # tiny sizes (the smoke test)
 * ```
 *
 * Every case runs on its own fresh WAL file, seeded before it is timed and deleted after. One
 * more row gives the floor of any design that keeps keys in a table of their own: a plain
 * enqueue plus one row in a bare table, in one transaction (one page more per commit).
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { open } from "../mod.ts";
import type { Database, Queue } from "../mod.ts";
import { driverArg } from "./_driver_arg.ts";
import { runtimeKey } from "../tests/_runtime.ts";

const QUICK = process.argv.includes("--quick");
const QUEUE = "bench";
const WORKER = "bench-worker";
const JOB = { to: "someone@example.com", template: "welcome", attempt: 1 };
/** Pending jobs (and, for keyed cases, held keys) on the file while a case is timed. */
const DEPTH = QUICK ? 50 : 5_000;
/** The target: an enqueue with a key costs at most this many plain enqueues. */
const KEY_TARGET = 1.3;

const dir = mkdtempSync(join(tmpdir(), "honker-ts-keys-bench-"));
const driverName = driverArg();
let fileCount = 0;

interface Fixture {
  db: Database;
  queue: Queue<typeof JOB>;
}

function removeDb(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}

/** A table of the floor case: one more row in one more B-tree, nothing else. */
const FLOOR_DDL = "CREATE TABLE floor_rows (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID";
const FLOOR_INSERT = "INSERT INTO floor_rows (k, v) VALUES (?, ?)";

async function fixture(keyed: boolean): Promise<Fixture> {
  const db = await open(join(dir, `case-${++fileCount}.db`), { driver: driverName });
  db.driver.exec(FLOOR_DDL);
  const queue = db.queue<typeof JOB>(QUEUE);
  db.transaction((tx) => {
    for (let i = 0; i < DEPTH; i++) queue.enqueue(JOB, keyed ? { tx, key: `seed-${i}` } : { tx });
  });
  return { db, queue };
}

/** A case: how its file is seeded, and the operation timed (after an untimed `prep`). */
interface Case {
  keyed: boolean;
  body: (f: Fixture) => { prep?: () => unknown; op: () => unknown };
}

function claimAck(queue: Queue<typeof JOB>): boolean {
  const job = queue.claimOne(WORKER);
  if (!job?.ack()) throw new Error("Cannot bench: claimOne() found no job to ack");
  return true;
}

let n = 0;
const CASES: Record<string, Case> = {
  "enqueue: plain": {
    keyed: false,
    body: ({ queue }) => ({ op: () => queue.enqueue(JOB) }),
  },
  "enqueue: new key": {
    keyed: true,
    body: ({ queue }) => ({ op: () => queue.enqueue(JOB, { key: `k-${++n}` }) }),
  },
  "enqueue: plain + 1 row elsewhere (floor)": {
    keyed: false,
    body: ({ db, queue }) => ({
      op: () =>
        db.transaction((tx) => {
          queue.enqueue(JOB, { tx });
          tx.run(FLOOR_INSERT, [`f-${++n}`, n]);
        }),
    }),
  },
  "enqueue: key over a stale row": {
    keyed: true,
    body: ({ queue }) => {
      let key = "";
      return {
        prep: () => {
          key = `s-${++n}`;
          queue.cancel(queue.enqueue(JOB, { key }));
        },
        op: () => queue.enqueue(JOB, { key }),
      };
    },
  },
  "enqueue: duplicate key": {
    keyed: true,
    body: ({ queue }) => ({ op: () => queue.enqueue(JOB, { key: "seed-0" }) }),
  },
  "enqueue: new debounce key": {
    keyed: true,
    body: ({ queue }) => ({ op: () => queue.enqueue(JOB, { key: `d-${++n}`, debounceS: 0 }) }),
  },
  "claim+ack: plain jobs": {
    keyed: false,
    body: ({ queue }) => ({ prep: () => queue.enqueue(JOB), op: () => claimAck(queue) }),
  },
  "claim+ack: keyed jobs": {
    keyed: true,
    body: ({ queue }) => ({
      prep: () => queue.enqueue(JOB, { key: `c-${++n}` }),
      op: () => claimAck(queue),
    }),
  },
};

async function start(name: string) {
  const c = CASES[name];
  const f = await fixture(c.keyed);
  return { f, ...c.body(f) };
}

function finish(f: Fixture): void {
  const path = f.db.path;
  f.db.close();
  removeDb(path);
}

/** Registers every case with mitata: `op` alone is timed, one call per sample. */
function register(): void {
  const groups: Record<string, string[]> = {
    "enqueue 1 job per call": Object.keys(CASES).filter((k) => k.startsWith("enqueue")),
    "claim+ack 1 job": Object.keys(CASES).filter((k) => k.startsWith("claim")),
  };
  for (const [title, names] of Object.entries(groups)) {
    group(title, () =>
      summary(() => {
        for (const name of names) {
          bench(name, async function* () {
            const { f, prep, op } = await start(name);
            yield {
              manual(): number {
                prep?.();
                const t0 = performance.now();
                do_not_optimize(op());
                return (performance.now() - t0) * 1e6;
              },
            };
            finish(f);
          });
        }
      }));
  }
}

/**
 * The ratio a / b measured paired: blocks of `a` and `b` alternate on two files opened side by
 * side, and the median of the per-pair ratios is reported. On a machine shared with other work
 * a load spike then hits both sides of a pair, where mitata's cases, run one after the other,
 * can each meet a different load.
 */
async function pairedRatio(nameA: string, nameB: string): Promise<number> {
  const [a, b] = [await start(nameA), await start(nameB)];
  const block = QUICK ? 20 : 200;
  const time = (s: { op: () => unknown; prep?: () => unknown }) => {
    let ms = 0;
    for (let i = 0; i < block; i++) {
      s.prep?.();
      const t0 = performance.now();
      do_not_optimize(s.op());
      ms += performance.now() - t0;
    }
    return ms;
  };
  const ratios: number[] = [];
  for (let pair = 0; pair < (QUICK ? 3 : 40); pair++) {
    // Alternate which side goes first, so neither always meets a warmer cache.
    let ta = 0;
    if (pair % 2 === 0) ta = time(a);
    const tb = time(b);
    if (pair % 2 === 1) ta = time(a);
    ratios.push(ta / tb);
  }
  finish(a.f);
  finish(b.f);
  ratios.sort((x, y) => x - y);
  return ratios[Math.floor(ratios.length / 2)];
}

/** [label, a, b, target or undefined]: the ratio a / b, and the target it must meet. */
const COMPARISONS: ReadonlyArray<readonly [string, string, string, number | undefined]> = [
  ["enqueue: new key / plain", "enqueue: new key", "enqueue: plain", KEY_TARGET],
  [
    "enqueue: floor (+1 row) / plain",
    "enqueue: plain + 1 row elsewhere (floor)",
    "enqueue: plain",
    undefined,
  ],
  [
    "enqueue: over a stale row / plain",
    "enqueue: key over a stale row",
    "enqueue: plain",
    undefined,
  ],
  ["enqueue: duplicate key / plain", "enqueue: duplicate key", "enqueue: plain", undefined],
  ["enqueue: new debounce key / plain", "enqueue: new debounce key", "enqueue: plain", undefined],
  ["claim+ack: keyed / plain jobs", "claim+ack: keyed jobs", "claim+ack: plain jobs", undefined],
];

/**
 * Prints each comparison as µs (mitata's mean and median) and two ratios: mitata's medians, and
 * the paired median; the target is judged on the paired one.
 */
async function report(stats: Map<string, { avg: number; p50: number }>): Promise<void> {
  const get = (name: string) => stats.get(name) ?? { avg: NaN, p50: NaN };
  const us = (ns: number) => (ns / 1000).toFixed(1).padStart(9);
  const x = (r: number) => `${r.toFixed(2)}x`.padStart(9);
  console.log(`\n${runtimeKey()} · ${driverName}: µs per operation (mitata), ratios a / b`);
  const heads = ["mean a", "mean b", "p50 a", "p50 b", "p50 a/b", "paired"];
  console.log(`${"comparison".padEnd(40)}${heads.map((h) => h.padStart(9)).join("")}  target`);
  for (const [label, nameA, nameB, target] of COMPARISONS) {
    const [a, b] = [get(nameA), get(nameB)];
    const paired = await pairedRatio(nameA, nameB);
    const mark = target === undefined
      ? "-"
      : `<= ${target.toFixed(2)}x (paired): ${paired <= target ? "met" : "NOT MET"}`;
    console.log(
      `${label.padEnd(40)}${us(a.avg)}${us(b.avg)}${us(a.p50)}${us(b.p50)}` +
        `${x(a.p50 / b.p50)}${x(paired)}  ${mark}`,
    );
  }
}

async function main(): Promise<void> {
  try {
    console.log(
      `keys_bench on ${runtimeKey()}, driver ${driverName}, ${DEPTH} pending` +
        (QUICK ? " (--quick)" : ""),
    );
    register();
    const { benchmarks } = await run({ throw: true, ...(QUICK ? { format: "quiet" } : {}) });
    const stats = new Map(benchmarks.map((trial) => {
      const { avg = NaN, p50 = NaN } = trial.runs[0]?.stats ?? {};
      return [trial.alias, { avg, p50 }];
    }));
    await report(stats);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
