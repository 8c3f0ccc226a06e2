/**
 * Driver benchmark: µs per cached `SELECT ? + 1` and per `BEGIN IMMEDIATE; INSERT; COMMIT` on a
 * WAL file (`synchronous=NORMAL`), for every adapter available on the running runtime, beside
 * the raw native binding it wraps, so the adapter's overhead shows as a ratio.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/driver_bench.ts
 * node_modules/.bin/deno run -A bench/driver_bench.ts
 * node_modules/.bin/bun bench/driver_bench.ts
 * ```
 *
 * `DRIVERS=node-sqlite` narrows the adapters as in the tests. Temporary files are removed.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bench, group, run, summary } from "mitata";
import { driverMatrix } from "../tests/_drivers.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import type { SqliteDriver } from "../core/db/driver.ts";

const PRAGMAS_SQL = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL";
const JOBS_CREATE = "CREATE TABLE jobs (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, " +
  "payload TEXT NOT NULL, run_at INTEGER NOT NULL)";
const JOB_INSERT = "INSERT INTO jobs (queue, payload, run_at) VALUES (?, ?, ?)";
const SELECT_PLUS_ONE = "SELECT ? + 1 AS v";
/** About 70 bytes of JSON, like a typical job payload. */
const PAYLOAD = JSON.stringify({ to: "someone@example.com", template: "welcome", attempt: 1 });
const RUN_AT_S = 1_700_000_000;

const SCENARIOS = ["select ?+1 (cached)", "BEGIN IMMEDIATE; INSERT; COMMIT"] as const;
type Scenario = typeof SCENARIOS[number];

/** One way to reach SQLite, measured in every scenario. */
interface Target {
  /** What the report calls it: an adapter id or `raw <binding>`. */
  label: string;
  /** The native binding underneath; adapters are compared with the raw target of theirs. */
  binding: string;
  raw: boolean;
  ops: Record<Scenario, () => unknown>;
  close(): void;
}

/** The subset of a native statement the raw baselines call. */
interface RawStatement {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}

/** The subset of a native database handle (node:sqlite or bun:sqlite) the raw baselines call. */
interface RawDatabase {
  exec(sql: string): unknown;
  close(): void;
}

function rawTarget(
  binding: string,
  db: RawDatabase,
  prepare: (sql: string) => RawStatement,
): Target {
  db.exec(PRAGMAS_SQL);
  db.exec(JOBS_CREATE);
  const select = prepare(SELECT_PLUS_ONE);
  const insert = prepare(JOB_INSERT);
  return {
    label: `raw ${binding}`,
    binding,
    raw: true,
    ops: {
      "select ?+1 (cached)": () => select.get(1),
      "BEGIN IMMEDIATE; INSERT; COMMIT": () => {
        db.exec("BEGIN IMMEDIATE");
        insert.run("default", PAYLOAD, RUN_AT_S);
        db.exec("COMMIT");
      },
    },
    close: () => db.close(),
  };
}

async function rawNodeSqlite(path: string): Promise<Target | undefined> {
  type Module = { DatabaseSync: new (path: string) => RawDatabase & { prepare: RawPrepare } };
  type RawPrepare = (sql: string) => RawStatement;
  let mod: Module;
  try {
    mod = await import("node:sqlite") as unknown as Module;
  } catch {
    return undefined;
  }
  const db = new mod.DatabaseSync(path);
  return rawTarget("node:sqlite", db, (sql) => db.prepare(sql));
}

async function rawBunSqlite(path: string): Promise<Target | undefined> {
  if (runtimeKey() !== "bun") return undefined;
  type Module = { Database: new (path: string) => RawDatabase & { query: RawQuery } };
  type RawQuery = (sql: string) => RawStatement;
  // A computed specifier keeps Node and Deno type-checkers from resolving a Bun-only module.
  const specifier = "bun:sqlite";
  const mod = await import(specifier) as Module;
  const db = new mod.Database(path);
  return rawTarget("bun:sqlite", db, (sql) => db.query(sql));
}

function adapterTarget(id: string, driver: SqliteDriver): Target {
  driver.exec(PRAGMAS_SQL);
  driver.exec(JOBS_CREATE);
  return {
    label: id,
    binding: driver.name,
    raw: false,
    ops: {
      "select ?+1 (cached)": () => driver.get(SELECT_PLUS_ONE, [1]),
      "BEGIN IMMEDIATE; INSERT; COMMIT": () => {
        driver.exec("BEGIN IMMEDIATE");
        driver.run(JOB_INSERT, ["default", PAYLOAD, RUN_AT_S]);
        driver.exec("COMMIT");
      },
    },
    close: () => driver.close(),
  };
}

async function openTargets(dir: string, targets: Target[]): Promise<void> {
  const file = (name: string) => join(dir, `${name.replace(/[^a-z0-9]+/gi, "_")}.db`);
  for (const raw of [rawNodeSqlite, rawBunSqlite]) {
    const target = await raw(file(raw.name));
    if (target !== undefined) targets.push(target);
  }
  for (const entry of driverMatrix()) {
    if (entry.skip !== undefined) {
      console.log(`skipped ${entry.id}: ${entry.skip}`);
      continue;
    }
    try {
      targets.push(adapterTarget(entry.id, await entry.open(file(entry.id))));
    } catch (error) {
      console.log(`skipped ${entry.id}: ${(error as Error).message}`);
    }
  }
}

/** Registers one group per scenario and binding; the raw binding is the summary's baseline. */
function register(targets: Target[]): { scenario: Scenario; target: Target }[] {
  const order: { scenario: Scenario; target: Target }[] = [];
  const bindings = [...new Set(targets.map((t) => t.binding))];
  for (const scenario of SCENARIOS) {
    for (const binding of bindings) {
      const members = targets.filter((t) => t.binding === binding).sort((a, b) =>
        Number(b.raw) - Number(a.raw)
      );
      group(`${scenario} · ${binding}`, () => {
        summary(() => {
          for (const target of members) {
            const b = bench(target.label, target.ops[scenario]);
            if (target.raw) b.baseline();
            order.push({ scenario, target });
          }
        });
      });
    }
  }
  return order;
}

function report(
  order: { scenario: Scenario; target: Target }[],
  averagesNs: number[],
): void {
  const rawNs = new Map<string, number>();
  order.forEach(({ scenario, target }, i) => {
    if (target.raw) rawNs.set(`${scenario}|${target.binding}`, averagesNs[i]);
  });
  console.log(`\n${runtimeKey()}: µs per operation (ratio = adapter / raw binding)`);
  console.log(`${"scenario".padEnd(34)}${"target".padEnd(20)}${"µs/op".padStart(9)}  ratio`);
  order.forEach(({ scenario, target }, i) => {
    const base = rawNs.get(`${scenario}|${target.binding}`);
    const ratio = base === undefined ? "-" : `${(averagesNs[i] / base).toFixed(2)}x`;
    const us = (averagesNs[i] / 1000).toFixed(2);
    console.log(`${scenario.padEnd(34)}${target.label.padEnd(20)}${us.padStart(9)}  ${ratio}`);
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-bench-"));
  const targets: Target[] = [];
  try {
    await openTargets(dir, targets);
    const order = register(targets);
    const { benchmarks } = await run();
    const averagesNs = benchmarks.map((trial) => trial.runs[0]?.stats?.avg ?? NaN);
    if (averagesNs.length !== order.length) {
      throw new Error("Cannot report: benchmark count mismatch");
    }
    report(order, averagesNs);
  } finally {
    for (const target of targets) target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
