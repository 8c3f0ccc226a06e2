/**
 * The engine of the differential test (model_test.ts, whose header says what it compares): runs
 * seeded sequences of operations on honker's extension and on honker-ts's drivers in lockstep,
 * and reports, shrunk, the sequences where they diverge. Imports no test runner, so that
 * _libsql_deno_run.ts can run it in a `deno run` process.
 *
 * @module
 */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../mod.ts";
import type { DriverEntry } from "../_drivers.ts";
import { HONKER_EXT_PATH } from "../_honker_ext.ts";
import { FakeClock, jsUnixepoch, openOnClock } from "./_clock.ts";
import { resultProblem, show, SNAPSHOT_SQL, snapshotDiff } from "./_compare.ts";
import { generate } from "./_gen.ts";
import type { Op } from "./_gen.ts";
import { runOurs, runTheirs } from "./_ops.ts";
import type { Ours, Theirs } from "./_ops.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  ?.env ?? {};
const SEQUENCES = Number(env.DIFF_SEQUENCES ?? 1000);
/** Steps per sequence (DIFF_STEPS). */
export const STEPS: number = Number(env.DIFF_STEPS ?? 50);
const FIRST_SEED = Number(env.DIFF_FIRST_SEED ?? 1);
/** The seeds to run: DIFF_SEED alone, else DIFF_SEQUENCES of them from DIFF_FIRST_SEED. */
export const SEEDS: number[] = env.DIFF_SEED !== undefined
  ? [Number(env.DIFF_SEED)]
  : Array.from({ length: SEQUENCES }, (_, i) => FIRST_SEED + i);
/** Stop after this many divergent sequences (each is shrunk and printed). */
const MAX_FAILURES = 3;

/** Microseconds of CPU this process used, where the runtime tells (the machine may be busy). */
const cpu = () =>
  (globalThis as { process?: { cpuUsage?(): { user: number } } }).process?.cpuUsage?.().user ??
    Date.now() * 1000;
/** tmpfs where there is one: each sequence makes fresh files, and fsync on a disk would dominate. */
const TEMP = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();

/**
 * Rows inserted, updated or deleted on a connection since it opened. While it stays the same on
 * every connection, the tables are the ones last compared, and reading them again is skipped.
 */
const TOTAL_CHANGES = "SELECT total_changes() AS n";

interface StatementLike {
  get(...params: unknown[]): Record<string, unknown> | undefined;
}
interface ExtDatabaseLike {
  prepare(sql: string): StatementLike;
  exec(sql: string): void;
  function(
    name: string,
    options: { deterministic: boolean; varargs: boolean },
    fn: (...args: unknown[]) => unknown,
  ): void;
  loadExtension(path: string): void;
  close(): void;
}
type ExtOpen = new (
  path: string,
  o: { allowExtension: boolean; timeout: number },
) => ExtDatabaseLike;

/** honker's side: node:sqlite with honker's extension, on the fake clock. */
async function openTheirs(path: string, clock: FakeClock): Promise<[Theirs, () => void]> {
  const { DatabaseSync } = (await import("node:sqlite")) as unknown as { DatabaseSync: ExtOpen };
  const ext = new DatabaseSync(path, { allowExtension: true, timeout: 5000 });
  // Deterministic: SQLite then reads it once per statement, as it reads the real unixepoch().
  const unixepoch = jsUnixepoch(clock);
  ext.function("unixepoch", { deterministic: true, varargs: true }, (...args) => {
    return BigInt(unixepoch(...args));
  });
  ext.loadExtension(HONKER_EXT_PATH);
  ext.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON");
  const statements = new Map<string, StatementLike>();
  // node:sqlite binds every JS number as REAL; honker's bindings send integers as INTEGER.
  const x = (sql: string, params: unknown[] = []): unknown => {
    let stmt = statements.get(sql);
    if (!stmt) statements.set(sql, stmt = ext.prepare(sql));
    const bound = params.map((v) =>
      typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : v
    );
    const row = stmt.get(...bound);
    return row === undefined ? undefined : Object.values(row)[0];
  };
  x("SELECT honker_bootstrap()");
  return [{ x, now: () => clock.now, ids: [], claims: [], locks: [] }, () => ext.close()];
}

/** honker-ts's side on one driver, on the fake clock. */
async function openOurs(entry: DriverEntry, path: string, clock: FakeClock): Promise<Ours> {
  const driver = await openOnClock(entry, path, clock);
  // No cross-process watcher (fromDriver would start one): only synchronous calls are made.
  const db = new Database(driver, { ownsDriver: true, sqlFunctions: false });
  return { db, now: () => clock.now, ids: [], claims: [], locks: [] };
}

/** Where and how a sequence diverged. */
interface Failure {
  at: number;
  driver: string;
  problem: string;
  ours?: unknown;
  theirs?: unknown;
  tables?: string;
}

/** Runs `ops` on fresh files; the first step where a driver and honker disagree, if any. */
async function runOps(
  entries: DriverEntry[],
  start: number,
  ops: Op[],
): Promise<Failure | undefined> {
  const dir = mkdtempSync(join(TEMP, "honker-diff-"));
  const clock = new FakeClock(start);
  const sides: Ours[] = [];
  let closeTheirs = () => {};
  let at = 0;
  try {
    const [theirs, close] = await openTheirs(join(dir, "honker.db"), clock);
    closeTheirs = close;
    for (const entry of entries) {
      sides.push(await openOurs(entry, join(dir, `${entry.id}.db`), clock));
    }
    const drivers = sides.map((s) => s.db.driver);
    let seen = "";
    for (; at < ops.length; at++) {
      const op = ops[at];
      if (op.k === "time") clock.advance(op.d!);
      const t = op.k === "time" ? clock.now : runTheirs(theirs, op);
      const outs = sides.map((side) => op.k === "time" ? clock.now : runOurs(side, op));
      for (const [i, o] of outs.entries()) {
        const problem = resultProblem(op, o, t);
        if (problem) return { at, driver: entries[i].id, problem, ours: o, theirs: t };
      }
      const changes = [theirs.x(TOTAL_CHANGES), ...drivers.map((d) => d.get(TOTAL_CHANGES)?.n)];
      if (changes.join() === seen) continue;
      seen = changes.join();
      const reference = String(theirs.x(SNAPSHOT_SQL));
      const i = drivers.findIndex((d) => String(d.get(SNAPSHOT_SQL)?.s) !== reference);
      if (i >= 0) {
        const tables = snapshotDiff(String(drivers[i].get(SNAPSHOT_SQL)?.s), reference);
        return {
          at,
          driver: entries[i].id,
          problem: "the tables differ",
          ours: outs[i],
          theirs: t,
          tables,
        };
      }
    }
    return undefined;
  } catch (error) {
    return { at, driver: "harness", problem: `the harness threw: ${(error as Error).stack}` };
  } finally {
    for (const side of sides) side.db.close();
    closeTheirs();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Removes steps one at a time while the same divergence (same problem, same op kind) remains. */
async function shrink(
  entry: DriverEntry,
  start: number,
  ops: Op[],
  first: Failure,
): Promise<[Op[], Failure]> {
  const same = (f: Failure | undefined, kept: Op[]) =>
    f !== undefined && f.problem === first.problem && kept[f.at].k === ops[first.at].k;
  let best = ops.slice(0, first.at + 1);
  let failure = first;
  for (let changed = true, runs = 0; changed && runs < 2000;) {
    changed = false;
    for (let i = best.length - 1; i >= 0 && runs < 2000; i--, runs++) {
      const kept = best.filter((_, j) => j !== i);
      const f = kept.length > 0 ? await runOps([entry], start, kept) : undefined;
      if (f && same(f, kept)) {
        [best, failure, changed] = [kept.slice(0, f.at + 1), f, true];
        i = Math.min(i, best.length);
      }
    }
  }
  return [best, failure];
}

async function report(entries: DriverEntry[], seed: number, failure: Failure): Promise<string> {
  const { start, ops } = generate(seed, STEPS);
  const entry = entries.find((e) => e.id === failure.driver) ?? entries[0];
  const [shrunk, last] = await shrink(entry, start, ops, failure);
  const lines = (list: Op[]) => list.map((op, i) => `    ${i}: ${JSON.stringify(op)}`);
  return [
    `honker-ts (${failure.driver}) diverges from honker's extension: seed ${seed}, step ${failure.at}`,
    `  replay: DIFF_SEED=${seed} DRIVERS=${entry.id}; the clock starts at ${start}`,
    `  failing prefix (${failure.at + 1} steps):`,
    ...lines(ops.slice(0, failure.at + 1)),
    `  shrunk (${shrunk.length} steps, same divergence):`,
    ...lines(shrunk),
    `  last step: ${last.problem}`,
    `    honker-ts: ${show(last.ours)}`,
    `    honker:    ${show(last.theirs)}`,
    ...(last.tables ? ["  tables that differ after it:", last.tables] : []),
  ].join("\n");
}

/**
 * Runs the sequences of `seeds` in lockstep on `runnable` and logs how long they took.
 *
 * @returns A report of each divergent sequence (at most MAX_FAILURES): none when all agree.
 */
export async function runSeeds(runnable: DriverEntry[], seeds: number[]): Promise<string[]> {
  const [started, startedCpu] = [Date.now(), cpu()];
  const failures: string[] = [];
  for (const seed of seeds) {
    const { start, ops } = generate(seed, STEPS);
    const failure = await runOps(runnable, start, ops);
    if (failure) failures.push(await report(runnable, seed, failure));
    if (failures.length >= MAX_FAILURES) break;
  }
  const ms = `${Date.now() - started} ms, ${Math.round((cpu() - startedCpu) / 1000)} ms CPU`;
  const ids = runnable.map((e) => e.id).join(", ");
  console.log(`differential (${ids}): seeds ${seeds[0]}–${seeds.at(-1)} × ${STEPS} steps: ${ms}`);
  return failures;
}
