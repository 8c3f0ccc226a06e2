/**
 * Queue benchmark: what honker-ts's queue costs over the raw-SQLite floor on the same driver,
 * and beside honker's own SQL functions (its loadable extension in a node:sqlite connection).
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/queue_bench.ts
 * node_modules/.bin/deno run -A bench/queue_bench.ts
 * node_modules/.bin/bun bench/queue_bench.ts
 * node_modules/.bin/bun bench/queue_bench.ts --driver=bun-ffi   # any built-in adapter
 * ```
 *
 * Every case runs on its own fresh WAL file (honker's pragmas), opened and seeded before it is
 * timed and deleted after. Mutating cases keep their state stable: each iteration first
 * enqueues, untimed, what the timed claim will take, so a "5,000 pending" claim always sees
 * exactly 5,000 pending jobs. Times are per operation (one claim+ack, one 100-job transaction);
 * the table after mitata's report gives the ratios.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { open } from "../mod.ts";
import type { Database, Queue } from "../mod.ts";
import { driverArg } from "./_driver_arg.ts";
import { honkerExtVersion, honkerSkipReason, inTx, openHonkerDriver } from "./_honker.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { runtimeKey } from "../tests/_runtime.ts";

const QUEUE = "bench";
const WORKER = "bench-worker";
/** About 70 bytes of JSON, like a typical job payload. */
const JOB = { to: "someone@example.com", template: "welcome", attempt: 1 };
const PAYLOAD = JSON.stringify(JOB);
const DEPTHS = [200, 5_000, 50_000];
const BATCH_SIZES = [32, 128];
/** Depth of the batch cases, and the depth at which honker is also timed inside transactions. */
const BATCH_DEPTH = 5_000;
const HONKER_TX_DEPTH = 5_000;

const RAW_INSERT = "INSERT INTO _honker_live (queue, payload) VALUES (?, ?)";
const RAW_CLAIM_SET = "UPDATE _honker_live SET state = 'processing', worker_id = ?, " +
  "claim_expires_at = unixepoch() + 300, attempts = attempts + 1";
const RAW_CLAIMABLE = "SELECT id FROM _honker_live WHERE queue = ? AND state IN " +
  "('pending', 'processing') AND run_at <= unixepoch() ORDER BY priority DESC, run_at, id LIMIT ?";
const RAW_CLAIM_EQ = `${RAW_CLAIM_SET} WHERE id = (${RAW_CLAIMABLE}) RETURNING *`;
const RAW_CLAIM_IN = `${RAW_CLAIM_SET} WHERE id IN (${RAW_CLAIMABLE}) RETURNING *`;
const RAW_ACK = "DELETE FROM _honker_live WHERE id = ?";
const RAW_ACK_MANY = "DELETE FROM _honker_live WHERE id IN (SELECT value FROM json_each(?))";
const HONKER_ENQUEUE = "SELECT honker_enqueue(?, ?, NULL, NULL, 0, 3, NULL) AS id";
const HONKER_CLAIM = "SELECT honker_claim_batch(?, ?, ?, 300) AS jobs";
const HONKER_ACK = "SELECT honker_ack(?, ?) AS n";
const HONKER_ACK_BATCH = "SELECT honker_ack_batch(?, ?) AS n";

/** A queue on one fresh file, reached one way; `fill(n)` enqueues n jobs in one transaction. */
interface Fixture {
  fill(n: number): void;
  close(): void;
}

/** honker-ts's own Queue. */
interface OursFixture extends Fixture {
  db: Database;
  queue: Queue<typeof JOB>;
}

/** A bare connection: the raw-SQL floor, or honker's SQL functions. */
interface SqlFixture extends Fixture {
  driver: SqliteDriver;
}

const dir = mkdtempSync(join(tmpdir(), "honker-ts-queue-bench-"));
const driverName = driverArg();
let fileCount = 0;

function freshPath(): string {
  return join(dir, `case-${++fileCount}.db`);
}

function removeDb(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
}

function repeat(n: number, fn: () => unknown): void {
  for (let i = 0; i < n; i++) fn();
}

function expectCount(got: number, wanted: number, what: string): void {
  if (got !== wanted) throw new Error(`Cannot bench: ${what} returned ${got} of ${wanted} jobs`);
}

async function ours(path: string): Promise<OursFixture> {
  const db = await open(path, { driver: driverName });
  const queue = db.queue<typeof JOB>(QUEUE);
  const fill = (n: number) => void queue.enqueueMany(Array.from({ length: n }, () => JOB));
  return { db, queue, fill, close: () => db.close() };
}

/** The same file setup as ours (pragmas, schema), driven with plain SQL. */
async function raw(path: string): Promise<SqlFixture> {
  const db = await open(path, { driver: driverName });
  const driver = db.driver;
  const insert = () => driver.run(RAW_INSERT, [QUEUE, PAYLOAD]);
  return { driver, fill: (n) => inTx(driver, () => repeat(n, insert)), close: () => db.close() };
}

/** A node:sqlite connection with honker's extension loaded, honker's pragmas and schema. */
async function honker(path: string): Promise<SqlFixture> {
  const driver = await openHonkerDriver(path);
  const enqueue = () => driver.get(HONKER_ENQUEUE, [QUEUE, PAYLOAD]);
  return {
    driver,
    fill: (n) => inTx(driver, () => repeat(n, enqueue)),
    close: () => driver.close(),
  };
}

/**
 * Registers a case on a fresh file holding `depth` pending jobs. mitata times `op` alone, one
 * call per sample (manual mode, no batching); `prep` runs untimed before each call.
 */
function measure<F extends Fixture>(
  name: string,
  openFixture: (path: string) => Promise<F>,
  depth: number,
  body: (fixture: F) => { prep?: () => unknown; op: () => unknown },
): void {
  bench(name, async function* () {
    const path = freshPath();
    const fixture = await openFixture(path);
    if (depth > 0) fixture.fill(depth);
    const { prep, op } = body(fixture);
    yield {
      manual(): number {
        prep?.();
        const t0 = performance.now();
        do_not_optimize(op());
        return (performance.now() - t0) * 1e6;
      },
    };
    fixture.close();
    removeDb(path);
  });
}

/** Raw floor: claim n in one write transaction, ack them in another. */
function rawClaimAck({ driver }: SqlFixture, claimSql: string, n: number): unknown {
  const rows = inTx(driver, () => driver.all<{ id: number }>(claimSql, [WORKER, QUEUE, n]));
  expectCount(rows.length, n, "the raw claim");
  const ids = rows.map((row) => row.id);
  return inTx(
    driver,
    () => n === 1 ? driver.run(RAW_ACK, ids) : driver.run(RAW_ACK_MANY, [JSON.stringify(ids)]),
  );
}

function oursClaimAck({ queue }: OursFixture, n: number): unknown {
  if (n === 1) {
    const job = queue.claimOne(WORKER);
    expectCount(job ? 1 : 0, 1, "claimOne()");
    return job?.ack();
  }
  const jobs = queue.claimBatch(WORKER, n);
  expectCount(jobs.length, n, "claimBatch()");
  return queue.ackBatch(WORKER, jobs.map((job) => job.id));
}

/** honker's claim and ack functions, each in autocommit or in its own BEGIN IMMEDIATE. */
function honkerClaimAck({ driver }: SqlFixture, n: number, tx: boolean): unknown {
  const wrap = <T>(fn: () => T): T => (tx ? inTx(driver, fn) : fn());
  const row = wrap(() => driver.get<{ jobs: string }>(HONKER_CLAIM, [QUEUE, WORKER, n]));
  const ids = (JSON.parse(row?.jobs ?? "[]") as { id: number }[]).map((job) => job.id);
  expectCount(ids.length, n, "honker_claim_batch");
  return wrap(() =>
    n === 1
      ? driver.get(HONKER_ACK, [ids[0], WORKER])
      : driver.get(HONKER_ACK_BATCH, [JSON.stringify(ids), WORKER])
  );
}

function registerEnqueue(withHonker: boolean): void {
  const insert = ({ driver }: SqlFixture) => driver.run(RAW_INSERT, [QUEUE, PAYLOAD]);
  const honkerEnqueue = ({ driver }: SqlFixture) => driver.get(HONKER_ENQUEUE, [QUEUE, PAYLOAD]);
  group("enqueue 1 job per transaction", () =>
    summary(() => {
      measure("enqueue: raw tx", raw, 0, (f) => ({ op: () => inTx(f.driver, () => insert(f)) }));
      measure("enqueue: raw autocommit", raw, 0, (f) => ({ op: () => insert(f) }));
      measure("enqueue: ours", ours, 0, (f) => ({ op: () => f.queue.enqueue(JOB) }));
      if (!withHonker) return;
      measure("enqueue: honker (autocommit)", honker, 0, (f) => ({ op: () => honkerEnqueue(f) }));
    }));
  const hundred = Array.from({ length: 100 }, () => JOB);
  group("enqueue 100 jobs per transaction", () =>
    summary(() => {
      measure("100/tx: raw", raw, 0, (f) => ({ op: () => f.fill(100) }));
      measure("100/tx: ours enqueueMany", ours, 0, (f) => ({
        op: () => f.queue.enqueueMany(hundred),
      }));
      measure("100/tx: ours 100 enqueue", ours, 0, ({ db, queue }) => ({
        op: () => db.transaction((tx) => repeat(100, () => queue.enqueue(JOB, { tx }))),
      }));
      if (!withHonker) return;
      measure("100/tx: honker (tx)", honker, 0, (f) => ({ op: () => f.fill(100) }));
    }));
}

/** claim n + ack them at `depth` pending; each call first refills, untimed, the n it takes. */
function registerClaimAck(
  title: string,
  key: string,
  depth: number,
  n: number,
  honkerTx: boolean[],
): void {
  const shapes = n === 1
    ? [["raw id=", RAW_CLAIM_EQ], ["raw IN", RAW_CLAIM_IN]]
    : [["raw IN", RAW_CLAIM_IN]];
  group(title, () =>
    summary(() => {
      for (const [label, sql] of shapes) {
        measure(`${key}: ${label}`, raw, depth - n, (f) => ({
          prep: () => f.fill(n),
          op: () => rawClaimAck(f, sql, n),
        }));
      }
      measure(`${key}: ours`, ours, depth - n, (f) => ({
        prep: () => f.fill(n),
        op: () => oursClaimAck(f, n),
      }));
      for (const tx of honkerTx) {
        measure(
          `${key}: honker (${tx ? "BEGIN IMMEDIATE" : "autocommit"})`,
          honker,
          depth - n,
          (f) => ({
            prep: () => f.fill(n),
            op: () => honkerClaimAck(f, n, tx),
          }),
        );
      }
    }));
}

/** The comparisons printed after mitata's report: [label, bench a, bench b], ratio a / b. */
function comparisons(withHonker: boolean): string[][] {
  const [low, high] = [DEPTHS[0], DEPTHS[DEPTHS.length - 1]];
  const c = (d: number, who: string) => `claim+ack @${d}: ${who}`;
  const rows = [
    ["enqueue 1/tx: ours / raw tx", "enqueue: ours", "enqueue: raw tx"],
    ["enqueue 1/tx: ours / raw autocommit", "enqueue: ours", "enqueue: raw autocommit"],
    ["enqueue 100/tx: enqueueMany / raw", "100/tx: ours enqueueMany", "100/tx: raw"],
    ["enqueue 100/tx: 100 enqueue / raw", "100/tx: ours 100 enqueue", "100/tx: raw"],
    ...DEPTHS.flatMap((d) => [
      [`claim+ack @${d}: ours / raw id=`, c(d, "ours"), c(d, "raw id=")],
      [`claim+ack @${d}: ours / raw IN`, c(d, "ours"), c(d, "raw IN")],
    ]),
    ...BATCH_SIZES.map((
      n,
    ) => [`batch x${n}: ours / raw IN`, `batch x${n}: ours`, `batch x${n}: raw IN`]),
    [`claim+ack ours: @${high} / @${low}`, c(high, "ours"), c(low, "ours")],
    [`claim+ack raw IN: @${high} / @${low}`, c(high, "raw IN"), c(low, "raw IN")],
  ];
  if (!withHonker) return rows;
  const h = (d: number) => c(d, "honker (autocommit)");
  return [
    ...rows,
    ["enqueue 1/tx: honker / ours", "enqueue: honker (autocommit)", "enqueue: ours"],
    ["enqueue 100/tx: honker / enqueueMany", "100/tx: honker (tx)", "100/tx: ours enqueueMany"],
    ...DEPTHS.map((d) => [`claim+ack @${d}: honker / ours`, h(d), c(d, "ours")]),
    [
      `claim+ack @${HONKER_TX_DEPTH}: honker tx / ours`,
      c(HONKER_TX_DEPTH, "honker (BEGIN IMMEDIATE)"),
      c(HONKER_TX_DEPTH, "ours"),
    ],
    ...BATCH_SIZES.map((n) => [
      `batch x${n}: honker / ours`,
      `batch x${n}: honker (autocommit)`,
      `batch x${n}: ours`,
    ]),
    [`claim+ack honker: @${high} / @${low}`, h(high), h(low)],
  ];
}

/** Prints each comparison as µs (mean and median of mitata's samples) and their ratios. */
function report(stats: Map<string, { avg: number; p50: number }>, withHonker: boolean): void {
  const get = (name: string) => stats.get(name) ?? { avg: NaN, p50: NaN };
  const us = (ns: number) => (ns / 1000).toFixed(1).padStart(9);
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(9);
  console.log(`\n${runtimeKey()} · ${driverName}: µs per operation, a / b (mean, then median)`);
  const heads = ["mean a", "mean b", "a/b", "p50 a", "p50 b", "a/b"];
  console.log(`${"comparison".padEnd(38)}${heads.map((s) => s.padStart(9)).join("")}`);
  for (const [label, nameA, nameB] of comparisons(withHonker)) {
    const [a, b] = [get(nameA), get(nameB)];
    console.log(
      `${label.padEnd(38)}${us(a.avg)}${us(b.avg)}${x(a.avg, b.avg)}` +
        `${us(a.p50)}${us(b.p50)}${x(a.p50, b.p50)}`,
    );
  }
}

async function main(): Promise<void> {
  try {
    const probe = freshPath();
    const skip = await honkerSkipReason(probe);
    removeDb(probe);
    const extVersion = skip ? "" : honkerExtVersion();
    console.log(
      `queue_bench on ${runtimeKey()}, driver ${driverName}; ` +
        (skip
          ? `honker rows skipped: ${skip}`
          : `honker ${extVersion} extension in a node:sqlite connection`),
    );
    registerEnqueue(!skip);
    for (const d of DEPTHS) {
      const honkerTx = skip ? [] : d === HONKER_TX_DEPTH ? [false, true] : [false];
      registerClaimAck(`claim+ack 1 job, ${d} pending`, `claim+ack @${d}`, d, 1, honkerTx);
    }
    for (const n of BATCH_SIZES) {
      const title = `claimBatch+ackBatch of ${n}, ${BATCH_DEPTH} pending`;
      registerClaimAck(title, `batch x${n}`, BATCH_DEPTH, n, skip ? [] : [false]);
    }
    const { benchmarks } = await run({ throw: true });
    const stats = new Map(benchmarks.map((trial) => {
      const { avg = NaN, p50 = NaN } = trial.runs[0]?.stats ?? {};
      return [trial.alias, { avg, p50 }];
    }));
    report(stats, !skip);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
