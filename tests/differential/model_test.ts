// Differential test (issue "Reliability", item 1): seeded random sequences of operations run
// twice, on two fresh files: once through honker-ts's TypeScript API, once through honker's real
// extension's SQL functions. After every step the return values (converted to the extension's
// shapes) and the full contents of every `_honker_*` table and of `sqlite_sequence` must agree.
//
// Time: every connection replaces SQLite's `unixepoch()` with one fake clock shared by all sides
// (a connection's own function overrides a built-in of the same name, and honker reads "now"
// only through `unixepoch()`, in its SQL and in the DEFAULT of every created_at/died_at column).
// Every step therefore sees the same second on both sides whatever the wall clock does, timestamps
// compare exactly, and a "time passes" step just moves the clock forward (0 s to 1 h). The clock
// starts at a random second of a week in 2027, so cron boundaries fall everywhere. Most
// connections register the clock as a JS SQL function. libsql cannot (its `Database.function()`
// throws "not implemented"), so its connection loads tests/fixtures/fake_clock.c, built with `cc`
// when the test starts (no compiler: skipped with the reason), whose `unixepoch()` returns a copy
// of the second that the clock sets through `fake_clock_set(n)` each time it moves (_clock.ts).
// On every side `unixepoch()` with arguments is an error rather than the wall clock.
//
// honker's known bugs that honker-ts deliberately does not copy (spec §12, README "Compatibility
// with honker"):
// - claimBatch(n ≤ 0): modelled. honker-ts must refuse with a RangeError and write nothing;
//   honker's side is not run (LIMIT −1 there claims everything).
// - claimBatch order: modelled. honker-ts must return claim order (priority DESC, run_at, id);
//   honker returns UPDATE … RETURNING order, so the claimed sets are compared in id order.
// - exhausted pending rows dead-lettered only once a claim comes back short: avoided. Through the
//   API a pending row always has attempts < max_attempts (maxAttempts ≥ 1 is enforced, retry
//   dead-letters at the limit), so the case needs hand-written rows; enqueue with maxAttempts 0,
//   which would make one in honker, is a modelled refusal instead.
// - a Queue handle acts only on its own queue's jobs: modelled. ackBatch(), cancel() and getJob()
//   on queue "a" leave a job of queue "b" alone (honker's bindings pass any job id to
//   honker_ack_batch/honker_cancel/honker_get_job, which ignore the queue), so honker's side
//   keeps those calls to queue "a"'s jobs.
// - results: modelled. Values are stored as JSON (honker's Python binding), so honker's side saves
//   JSON.stringify(value) and a saved null is the text 'null', never SQL NULL; getResult's
//   undefined (absent) and null (saved null) map to honker's NULL and 'null'.
// - fractional durations: both sides must refuse them (this extension version errors on a REAL
//   with a fraction too). Negative durations, a lock TTL of 0, empty names, readSince with a
//   negative limit, a negative consumer offset, and update() of a missing schedule with an invalid
//   expression (honker returns 0 before reading it) are modelled refusals: honker-ts must throw
//   TypeError/RangeError and write nothing; honker's side is not run.
// - add() and update() of a schedule keep its next fire when its expression (and, for add(), its
//   queue) is unchanged, so that registering schedules at every boot loses no boundary: modelled.
//   honker's register/update recompute it from now; honker's side puts the stored next_fire_at
//   back after such a call.
// - honker-node's swapped consumer layout: not applicable; the reference is the extension's
//   `honker_stream_save_offset(consumer, topic, …)`, and the tables must match it.
// - Lock handles: after release() a handle is inert without SQL, as honker's Bun binding does
//   (honker's Node binding would DELETE again); honker's side mirrors the handle state.
//
// The drivers available on the running runtime (tests/_drivers.ts) run in lockstep: each step
// runs once on honker's side and once on every driver's own file, and each driver is compared with
// honker; unavailable drivers are skipped with the reason. Files live on tmpfs when there is one.
// The tables are read again only after a step that moved some connection's total_changes().
//
// DIFF_SEQUENCES (default 1000) and DIFF_STEPS (default 50) size the run; DIFF_FIRST_SEED
// (default 1) moves the window of seeds; DIFF_SEED=n replays sequence n alone. A divergence
// prints the seed, the failing prefix and a shrunk version of it (steps removed while the same
// divergence remains), with both results and the rows that differ.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "../../mod.ts";
import { driverMatrix } from "../_drivers.ts";
import type { DriverEntry } from "../_drivers.ts";
import { HONKER_EXT_PATH, honkerExtSkip } from "../_honker_ext.ts";
import { removeTempDirs } from "../_helpers.ts";
import { clockSkip, FakeClock, jsUnixepoch, openOnClock, prepareClocks } from "./_clock.ts";
import { resultProblem, show, SNAPSHOT_SQL, snapshotDiff } from "./_compare.ts";
import { generate } from "./_gen.ts";
import type { Op } from "./_gen.ts";
import { runOurs, runTheirs } from "./_ops.ts";
import type { Ours, Theirs } from "./_ops.ts";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
  ?.env ?? {};
const SEQUENCES = Number(env.DIFF_SEQUENCES ?? 1000);
const STEPS = Number(env.DIFF_STEPS ?? 50);
const FIRST_SEED = Number(env.DIFF_FIRST_SEED ?? 1);
const SEEDS = env.DIFF_SEED !== undefined
  ? [Number(env.DIFF_SEED)]
  : Array.from({ length: SEQUENCES }, (_, i) => FIRST_SEED + i);
/** Stop after this many divergent sequences (each is shrunk and printed). */
const MAX_FAILURES = 3;

const EXT_SKIP = await honkerExtSkip();
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

/** Seeds per test, so that each test stays well inside a runner's per-test timeout. */
const CHUNK = 250;

/** Runs the sequences of `seeds` in lockstep on `runnable`; fails with every divergence. */
async function runSeeds(runnable: DriverEntry[], seeds: number[]): Promise<void> {
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
  if (failures.length > 0) {
    console.error(failures.join("\n\n"));
    assert.fail(`${failures.length} divergent sequence(s); see the report above`);
  }
}

after(removeTempDirs);

describe("differential: honker-ts's API against honker's extension", () => {
  // Both sides read "now" from one fake clock through a unixepoch() of their own.
  const entries = driverMatrix().map((entry) => {
    const skip = entry.skip ?? clockSkip(entry);
    return skip === entry.skip ? entry : { ...entry, skip };
  });
  for (const entry of entries) {
    const skip = EXT_SKIP ?? entry.skip;
    if (skip) it(`${entry.id}: random sequences`, { skip });
  }
  const runnable = EXT_SKIP ? [] : entries.filter((e) => !e.skip);
  if (runnable.length === 0) {
    it("random sequences", { skip: EXT_SKIP ?? "no driver runs on this runtime" });
    return;
  }
  const ids = runnable.map((e) => e.id).join(", ");
  for (let i = 0; i < SEEDS.length; i += CHUNK) {
    const seeds = SEEDS.slice(i, i + CHUNK);
    const name = `${ids}: sequences ${seeds[0]}–${seeds.at(-1)} (${STEPS} steps) agree with honker`;
    it(
      name,
      { skip: runnable.length === 0 ? EXT_SKIP : undefined },
      () => {
        prepareClocks(runnable);
        return runSeeds(runnable, seeds);
      },
    );
  }
});
