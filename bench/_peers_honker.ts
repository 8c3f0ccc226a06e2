/**
 * honker-ts and the raw SQLite floor as peers-benchmark systems, on any runtime and adapter.
 *
 * honker-ts is a Database as `open()` builds it, on a driver wrapped to count statements:
 * `enqueue`, `enqueueMany` and `queue.work()`. The floor is the least a SQLite queue can do on
 * the same file, schema and driver: an autocommit `INSERT` per job, and a sequential loop of one
 * claim `UPDATE … RETURNING` transaction and one ack `DELETE` transaction per job, the SQL of
 * `bench/queue_bench.ts`'s raw floor (made safe across processes). It has no notion of
 * concurrency: one loop per process.
 *
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { setImmediate } from "node:timers";
import { isTransientSqliteError, open } from "../mod.ts";
import { Database } from "../core/database.ts";
import { startWatcher } from "../wake/watcher.ts";
import { unrefTimer } from "../platform/timers.ts";
import { openDriver } from "../adapters/auto.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { PRAGMAS_DEFAULT } from "../core/schema/sql.ts";
import { countingDriver } from "./_peers_counting.ts";
import type { SqlCost } from "./_peers_counting.ts";
import { QUEUE } from "./_peers_system.ts";
import type { Payload, PeerSystem, PreparedWork, SystemPlace } from "./_peers_system.ts";

/**
 * The raw floor's SQL: bench/queue_bench.ts's, with one change so that it is correct across
 * processes: a row another process is working on (`processing`, claim not yet expired) is not
 * claimable. `state IN (…)` stays so the planner can use honker's partial claim index.
 */
const RAW_INSERT = "INSERT INTO _honker_live (queue, payload) VALUES (?, ?)";
const RAW_CLAIM_ONE = "UPDATE _honker_live SET state = 'processing', worker_id = ?, " +
  "claim_expires_at = unixepoch() + 300, attempts = attempts + 1 WHERE id = (SELECT id " +
  "FROM _honker_live WHERE queue = ? AND state IN ('pending', 'processing') AND " +
  "((state = 'pending' AND run_at <= unixepoch()) OR claim_expires_at < unixepoch()) " +
  "ORDER BY priority DESC, run_at, id LIMIT 1) RETURNING id, payload";
const RAW_ACK = "DELETE FROM _honker_live WHERE id = ?";
/** The floor's loop lets stdin and timers in every this many jobs. */
const FLOOR_YIELD_EVERY = 64;
const FLOOR_IDLE_MS = 1;

/**
 * honker-ts's Queue, on a driver that counts statements. The Database is built as `open(path)`
 * builds it, owning its connection: `open(path, { driver })` would take the counting driver for
 * one the application shares, and set the foreground busy timeout back after every background
 * write (two more PRAGMAs per claim and per ack batch) — not what `open(path)` runs.
 */
export async function openHonker(place: SystemPlace): Promise<PeerSystem> {
  const timed = Boolean(process.env.PEERS_SQL_BREAKDOWN);
  const driver = countingDriver(await openDriver(place.path, place.driver), { timed });
  const db = new Database(driver, {
    ownsDriver: true,
    startWatcher: (waker, connection) => startWatcher(waker, connection, {}),
    unrefTimer,
  });
  const queue = db.queue<Payload>(QUEUE);
  return {
    add: (payload) => void queue.enqueue(payload),
    addBulk: (payloads) => void queue.enqueueMany(payloads),
    prepare(concurrency, onJob, options = {}): Promise<PreparedWork> {
      const stopping = new AbortController();
      let done: Promise<unknown> = Promise.resolve();
      // deno-lint-ignore require-await
      const handler = async (job: { payload: Payload }) => onJob(job.payload);
      return Promise.resolve({
        start: () =>
          void (done = queue.work(handler, {
            concurrency,
            prefetch: options.prefetch,
            signal: stopping.signal,
          })),
        stop: async () => {
          stopping.abort();
          await done;
        },
      });
    },
    statements: () => driver.statements,
    resetStatements: () => driver.resetCount(),
    close: () => {
      dumpBySql(driver.costBySql(), driver.statements);
      db.close(); // closes the driver too
      return Promise.resolve();
    },
  };
}

/**
 * With `PEERS_SQL_BREAKDOWN=DIR` set, each honker-ts process writes the statements it ran since
 * the last reset, by SQL text, to `DIR/<pid>.json` (DIR is made when missing), with their time
 * and how many waited over 0.8 ms: which statements a job costs, and which wait for the lock.
 * `bench/peers_breakdown.ts DIR` sums a run's files.
 */
function dumpBySql(costBySql: [string, SqlCost][], total: number): void {
  const dir = process.env.PEERS_SQL_BREAKDOWN;
  if (!dir || total === 0) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ total, costBySql }, null, 1));
}

function inTx<T>(driver: SqliteDriver, fn: () => T): T {
  driver.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    driver.exec("COMMIT");
    return result;
  } catch (error) {
    if (driver.inTransaction()) driver.exec("ROLLBACK");
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const turn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * `inTx()`, or undefined when the database stayed busy past the busy timeout: with 4 floor
 * processes taking the write lock back to back, SQLite's busy handler (which sleeps between
 * tries, so it never queues) let one process wait out its 5 s and fail on Bun. The caller tries
 * again after a turn of the event loop; synchronous, so that the common path costs the floor no
 * promise.
 */
function inTxUnlessBusy<T>(driver: SqliteDriver, fn: () => T): { value: T } | undefined {
  try {
    return { value: inTx(driver, fn) };
  } catch (error) {
    if (isTransientSqliteError(error)) return undefined;
    throw error;
  }
}

/** One claim transaction, the handler, one ack transaction, until stopped. */
async function floorLoop(
  driver: SqliteDriver,
  onJob: (payload: Payload) => void,
  stopped: () => boolean,
): Promise<void> {
  // deno-lint-ignore require-await
  const handler = async (payload: Payload) => onJob(payload);
  const workerId = `floor-${crypto.randomUUID().slice(0, 8)}`;
  for (let n = 1; !stopped(); n++) {
    const claimed = inTxUnlessBusy(
      driver,
      () => driver.all<{ id: number; payload: string }>(RAW_CLAIM_ONE, [workerId, QUEUE]),
    );
    if (claimed === undefined) {
      await turn();
      continue;
    }
    const [row] = claimed.value;
    if (!row) {
      await sleep(FLOOR_IDLE_MS);
      continue;
    }
    await handler(JSON.parse(row.payload));
    while (inTxUnlessBusy(driver, () => driver.run(RAW_ACK, [row.id])) === undefined) await turn();
    if (n % FLOOR_YIELD_EVERY === 0) await turn();
  }
}

/** The raw floor: honker's file and schema, plain SQL on a bare connection. */
export async function openFloor(place: SystemPlace): Promise<PeerSystem> {
  (await open(place.path, { driver: place.driver, wake: "poll" })).close(); // honker's schema
  const driver = await openDriver(place.path, place.driver);
  for (const pragma of [...PRAGMAS_DEFAULT, "PRAGMA busy_timeout = 5000"]) driver.exec(pragma);
  const insert = (payload: Payload) => driver.run(RAW_INSERT, [QUEUE, JSON.stringify(payload)]);
  return {
    add: (payload) => void insert(payload),
    addBulk: (payloads) => inTx(driver, () => payloads.forEach(insert)),
    prepare(_concurrency, onJob): Promise<PreparedWork> {
      let stopped = false;
      let done: Promise<void> = Promise.resolve();
      return Promise.resolve({
        start: () => void (done = floorLoop(driver, onJob, () => stopped)),
        stop: async () => {
          stopped = true;
          await done;
        },
      });
    },
    close: () => Promise.resolve(driver.close()),
  };
}
