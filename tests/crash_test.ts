// Crash safety (spec §8, "Crash safety"): real child processes of the runtime running the tests,
// SIGKILLed mid-transaction, while holding claims, and during a WAL checkpoint. Every test then
// checks the file the way the next process would find it.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { fromDriver } from "../mod.ts";
import type { Database, Job } from "../mod.ts";
import { driverMatrix } from "./_drivers.ts";
import type { DriverEntry } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";
import { collect, exited, LineReader, spawnScript } from "./_spawn.ts";

const CHILD = fileURLToPath(new URL("./fixtures/crash_child.ts", import.meta.url));
const SLOW = { timeout: 90_000 };
/** Child start-up on a loaded two-core machine can take seconds; this is only a ceiling. */
const READY_MS = 45_000;

async function openWith(entry: DriverEntry, path: string): Promise<Database> {
  return fromDriver(await entry.open(path), { wake: "poll", pollIntervalMs: 50 });
}

/** Closes a Database opened by `openWith` and its driver. */
function closeAll(db: Database): void {
  db.close();
  db.driver.close();
}

function count(db: Database, sql: string, params: (string | number)[] = []): number {
  return Number(db.driver.get<{ n: number }>(sql, params)?.n);
}

function integrity(db: Database): string {
  return String(
    db.driver.get<{ integrity_check: string }>("PRAGMA integrity_check")?.integrity_check,
  );
}

/** Starts `crash_child.ts` and waits for the first stdout line matching `ready`. */
async function startChild(args: string[], ready: RegExp) {
  const child = spawnScript(CHILD, args);
  const out = new LineReader(child);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  try {
    const line = await out.waitFor(ready, READY_MS);
    return { child, out, line };
  } catch (error) {
    child.kill("SIGKILL");
    await exited(child);
    throw new Error(`crash_child ${args[0]} never printed ${ready}: ${stderr}`, { cause: error });
  }
}

/**
 * Whether the process `pid` has let go of everything: no POSIX lock of it is left in
 * /proc/locks and it is a zombie or gone. The state alone is not enough: a multi-threaded process
 * (Deno, Bun) shows its leader as a zombie while its other threads are still tearing down and
 * its SQLite locks are still held. Without /proc, asks the kernel whether the pid still exists.
 */
function gone(pid: number): boolean {
  if (!existsSync("/proc/locks")) {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
  const locks = readFileSync("/proc/locks", "utf8").split("\n");
  if (locks.some((line) => line.split(/\s+/)[4] === String(pid))) return false;
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").startsWith("Z");
  } catch {
    return true;
  }
}

/**
 * SIGKILLs the child and waits until it has really exited. The "exit" event is not enough:
 * Deno's node:child_process emits it right after kill(), while the process is still tearing
 * down and holding its SQLite locks (seen in /proc/locks, with the process in state R or D).
 */
async function sigkill(child: ReturnType<typeof spawnScript>): Promise<void> {
  child.kill("SIGKILL");
  await exited(child);
  assert.equal(child.signalCode, "SIGKILL");
  const pid = child.pid as number;
  const deadline = Date.now() + 20_000;
  while (!gone(pid)) {
    assert.ok(Date.now() < deadline, `process ${pid} still running 20 s after SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function walBytes(path: string): number {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
}

/** A new connection must get the write lock at once: no stale lock survived the kill. */
async function assertNoStaleLock(entry: DriverEntry, path: string): Promise<void> {
  const raw = await entry.open(path);
  try {
    raw.exec("PRAGMA busy_timeout = 0");
    raw.exec("BEGIN IMMEDIATE");
    raw.exec("ROLLBACK");
  } finally {
    raw.close();
  }
}

/**
 * Commits one job, event and notification, lets a child die inside a transaction that adds
 * more of each, then checks that only the committed ones exist and that nothing stays locked.
 */
async function killInTransaction(
  entry: DriverEntry,
  db: Database,
  signal: AbortSignal,
  spillRows: number,
): Promise<void> {
  const path = db.path;
  const before = {
    job: db.queue("crash").enqueue({ from: "before" }),
    event: db.stream("crash").publish({ from: "before" }),
    note: db.notify("crash", { from: "before" }),
  };
  const first = db.listen<{ from: string }>("crash", { signal }).next();
  const walBefore = walBytes(path);
  const { child } = await startChild(["tx", path, entry.id, String(spillRows)], /^in-tx$/);
  if (spillRows > 0) {
    assert.ok(
      walBytes(path) > walBefore + 1_000_000,
      `the open transaction should have spilled pages into the WAL (${walBytes(path)} bytes)`,
    );
  }
  await sigkill(child);

  assert.equal(integrity(db), "ok");
  assert.deepEqual(
    db.driver.all("SELECT id, payload FROM _honker_live").map((row) => ({ ...row })),
    [{ id: before.job, payload: '{"from":"before"}' }],
  );
  assert.deepEqual(
    db.driver.all('SELECT "offset", payload FROM _honker_stream').map((row) => ({ ...row })),
    [{ offset: before.event, payload: '{"from":"before"}' }],
  );
  assert.deepEqual(
    db.driver.all("SELECT id, payload FROM _honker_notifications").map((row) => ({ ...row })),
    [{ id: before.note, payload: '{"from":"before"}' }],
  );
  await assertNoStaleLock(entry, path);

  // A fresh Database opens and writes without waiting for any lock (busy_timeout 0), and a
  // listener started before the crash hears the next real notification, not a phantom one from
  // the killed transaction.
  const fresh = await openWith(entry, path);
  try {
    fresh.driver.exec("PRAGMA busy_timeout = 0");
    const after = fresh.queue("crash").enqueue({ from: "after" });
    const note = fresh.notify("crash", { from: "after" });
    assert.ok(after > before.job && note > before.note);
    const heard = await first;
    assert.deepEqual(heard.value, {
      id: note,
      channel: "crash",
      payload: { from: "after" },
      createdAt: heard.value?.createdAt,
    });
  } finally {
    closeAll(fresh);
  }
}

for (const entry of driverMatrix()) {
  describe(`SIGKILL crash safety (${entry.id})`, { skip: entry.skip }, () => {
    for (const spillRows of [0, 2000]) {
      const what = spillRows === 0
        ? "enqueues, publishes and notifies"
        : `also enqueues ${spillRows} KiB-sized jobs (uncommitted pages spilled into the WAL)`;
      it(`a process killed inside a transaction that ${what} leaves no trace`, SLOW, async () => {
        const path = tempDbPath();
        const db = await openWith(entry, path);
        const stop = new AbortController();
        try {
          await killInTransaction(entry, db, stop.signal, spillRows);
        } finally {
          stop.abort();
          closeAll(db);
        }
      });
    }

    it(
      "100 claims held by a killed worker are reclaimed after the visibility timeout and each completed once",
      SLOW,
      async () => {
        const path = tempDbPath();
        const db = await openWith(entry, path);
        const queue = db.queue("held", { visibilityTimeoutS: 60 });
        const ids = queue.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ i })));
        const { child, line } = await startChild(
          ["hold", path, entry.id, "held", "100", "1"],
          /^\{"ids"/,
        );
        await sigkill(child);
        const held = JSON.parse(line) as { ids: number[]; claimExpiresAt: number };
        assert.deepEqual([...held.ids].sort((a, b) => a - b), ids);
        assert.equal(
          count(db, "SELECT count(*) AS n FROM _honker_live WHERE worker_id = 'crasher'"),
          100,
        );

        // Two rescuers at once: another process and this one.
        const rescuer = spawnScript(CHILD, ["drain", path, entry.id, "held", "rescuer-b"]);
        rescuer.stdin.end();
        const rescued = collect(rescuer);
        const mine: Array<[number, number]> = [];
        const jobsMine: Job[] = [];
        const deadline = Date.now() + 60_000;
        while (count(db, "SELECT count(*) AS n FROM _honker_live WHERE queue = 'held'") > 0) {
          assert.ok(Date.now() < deadline, "the claims were never reclaimed");
          const now = count(db, "SELECT unixepoch() AS n");
          const batch = queue.claimBatch("rescuer-a", 8);
          if (batch.length > 0) {
            // A claim can only come back once the crashed worker's claim expired.
            assert.ok(
              count(db, "SELECT unixepoch() AS n") > held.claimExpiresAt,
              `reclaimed at ${now} a claim that lasts until ${held.claimExpiresAt}`,
            );
          }
          for (const job of batch) {
            if (job.ack()) mine.push([job.id, job.attempts]);
            jobsMine.push(job);
          }
          if (batch.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const other = await rescued;
        assert.equal(other.code, 0, other.stderr);
        const theirs = (JSON.parse(other.stdout.trim().split("\n").at(-1) ?? "{}") as {
          acked: Array<[number, number]>;
        }).acked;
        const all = [...mine, ...theirs];
        assert.equal(all.length, 100, `rescued ${mine.length} here and ${theirs.length} there`);
        assert.deepEqual(all.map(([id]) => id).sort((a, b) => a - b), ids);
        assert.ok(all.every(([, attempts]) => attempts === 2), "every job was claimed twice");
        for (const job of jobsMine) assert.equal(job.ack(), false, `job ${job.id} acked twice`);
        assert.equal(count(db, "SELECT count(*) AS n FROM _honker_dead"), 0);
        assert.equal(integrity(db), "ok");
        closeAll(db);
      },
    );

    it(
      "a process killed during wal_checkpoint(TRUNCATE) of a large WAL: the next open recovers everything",
      SLOW,
      async (t) => {
        const path = tempDbPath();
        closeAll(await openWith(entry, path));
        const ROWS = 2000; // of 1.5 KB: about 3.5 MB of WAL per round
        let committed = 0;
        const landed = { dbFileUntouched: 0, midCheckpoint: 0, afterCheckpoint: 0 };
        const rounds = 3;
        for (let round = 0; round < rounds; round++) {
          const { child, out } = await startChild(
            ["checkpoint", path, entry.id, String(ROWS), "1500"],
            /^checkpoint-start$/,
          );
          const [total, dbMtimeMs] = (out.lines.find((l) => l.startsWith("committed ")) ?? "")
            .split(" ").slice(1).map(Number);
          // The first kill lands as the checkpoint starts (while it syncs the WAL); the later ones
          // once it has begun writing pages into the database file.
          const waitUntil = Date.now() + (round === 0 ? 0 : 5_000);
          while (statSync(path).mtimeMs === dbMtimeMs && Date.now() < waitUntil) {
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          await sigkill(child);
          committed = total;
          if (out.lines.some((l) => l.startsWith("checkpoint-done")) || walBytes(path) === 0) {
            landed.afterCheckpoint++;
          } else if (statSync(path).mtimeMs !== dbMtimeMs) landed.midCheckpoint++;
          else landed.dbFileUntouched++;

          const db = await openWith(entry, path);
          assert.equal(integrity(db), "ok", `round ${round}`);
          assert.equal(count(db, "SELECT count(*) AS n FROM _honker_live"), committed);
          assert.equal(
            count(db, "SELECT count(*) AS n FROM _honker_live WHERE queue = 'bulk'"),
            (round + 1) * ROWS + round,
          );
          db.queue("bulk").enqueue({ after: round });
          committed++;
          closeAll(db);
        }
        assert.equal(committed, rounds * ROWS + rounds);
        const message = `checkpoint kills: ${JSON.stringify(landed)} (of ${rounds})`;
        if (typeof t.diagnostic === "function") t.diagnostic(message);
      },
    );
  });
}
