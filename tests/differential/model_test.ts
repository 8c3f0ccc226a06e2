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
// On Deno, libsql is out of the matrix (it crashes `deno test` when the runner tears down), so
// its sequences run against honker in a `deno run` process (_libsql_deno_run.ts) instead. The
// engine that runs and shrinks the sequences is _run.ts; this file registers the tests.
//
// DIFF_SEQUENCES (default 1000) and DIFF_STEPS (default 50) size the run; DIFF_FIRST_SEED
// (default 1) moves the window of seeds; DIFF_SEED=n replays sequence n alone. A divergence
// prints the seed, the failing prefix and a shrunk version of it (steps removed while the same
// divergence remains), with both results and the rows that differ.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { driverMatrix } from "../_drivers.ts";
import type { DriverEntry } from "../_drivers.ts";
import { honkerExtSkip } from "../_honker_ext.ts";
import { removeTempDirs } from "../_helpers.ts";
import { runtimeKey } from "../_runtime.ts";
import { runScript } from "../_spawn.ts";
import { clockSkip, prepareClocks } from "./_clock.ts";
import { runSeeds, SEEDS, STEPS } from "./_run.ts";

const EXT_SKIP = await honkerExtSkip();
const DENO_RUN = fileURLToPath(new URL("./_libsql_deno_run.ts", import.meta.url));

/** Seeds per test, so that each test stays well inside a runner's per-test timeout. */
const CHUNK = 250;

/** A driver of the matrix, and whether its sequences run in a `deno run` process. */
type Entry = DriverEntry & { denoRun?: boolean };

/** Fails with the divergences found, printed above the failure. */
function assertNone(failures: string[]): void {
  if (failures.length === 0) return;
  console.error(failures.join("\n\n"));
  assert.fail(`${failures.length} divergent sequence(s); see the report above`);
}

/** Runs the sequences of `seeds` in lockstep on `runnable`; fails with every divergence. */
async function agree(runnable: DriverEntry[], seeds: number[]): Promise<void> {
  prepareClocks(runnable);
  assertNone(await runSeeds(runnable, seeds));
}

/** Runs the sequences of `seeds` on libsql in a `deno run` process; fails with every divergence. */
async function agreeUnderDenoRun(t: { skip(reason: string): void }, seeds: number[]) {
  const result = await runScript(DENO_RUN, [String(seeds[0]), String(seeds.at(-1))]);
  assert.equal(result.code, 0, `deno run ${DENO_RUN} failed:\n${result.stderr}`);
  const lines = result.stdout.trim().split("\n");
  const outcome = JSON.parse(lines.pop() ?? "{}") as { skip?: string; failures?: string[] };
  for (const line of lines) console.log(line);
  if (outcome.skip !== undefined) return t.skip(outcome.skip);
  assertNone(outcome.failures ?? ["the deno run process printed no outcome"]);
}

/**
 * Whether `entry` is libsql on Deno and wanted by DRIVERS: libsql crashes `deno test` when the
 * runner tears down (its skip in tests/_drivers.ts), so its sequences run under `deno run`.
 */
function runsUnderDenoRun(entry: DriverEntry): boolean {
  const wanted = process.env.DRIVERS?.split(",").map((id) => id.trim());
  return runtimeKey() === "deno" && entry.id === "libsql" &&
    (wanted === undefined || wanted.includes(entry.id));
}

after(removeTempDirs);

describe("differential: honker-ts's API against honker's extension", () => {
  // Both sides read "now" from one fake clock through a unixepoch() of their own.
  const entries: Entry[] = driverMatrix().map((entry) => {
    if (runsUnderDenoRun(entry)) return { ...entry, skip: clockSkip(entry), denoRun: true };
    const skip = entry.skip ?? clockSkip(entry);
    return skip === entry.skip ? entry : { ...entry, skip };
  });
  for (const entry of entries) {
    const skip = EXT_SKIP ?? entry.skip;
    if (skip) it(`${entry.id}: random sequences`, { skip });
  }
  const runnable = EXT_SKIP ? [] : entries.filter((e) => !e.skip && !e.denoRun);
  const denoRun = EXT_SKIP ? undefined : entries.find((e) => !e.skip && e.denoRun);
  if (runnable.length === 0 && denoRun === undefined) {
    it("random sequences", { skip: EXT_SKIP ?? "no driver runs on this runtime" });
    return;
  }
  const ids = runnable.map((e) => e.id).join(", ");
  for (let i = 0; i < SEEDS.length; i += CHUNK) {
    const seeds = SEEDS.slice(i, i + CHUNK);
    const range = `sequences ${seeds[0]}–${seeds.at(-1)} (${STEPS} steps) agree with honker`;
    if (runnable.length > 0) it(`${ids}: ${range}`, () => agree(runnable, seeds));
    if (denoRun) it(`libsql under deno run: ${range}`, (t) => agreeUnderDenoRun(t, seeds));
  }
});
