// The backup recipe of docs/backup.md, end to end: Litestream replicates a honker-ts file to a
// file replica while a producer and workers on Node, Deno and Bun enqueue and ack jobs (one
// worker closes its Database mid-run), then everything, Litestream included, is SIGKILLed. The
// file restored from the replica passes integrity_check, is a consistent prefix of the source
// (a job is acked exactly when its marker row, written in the ack's transaction, is there),
// keeps every ack older than the loss bound, and honker-ts opens it and drains what is left.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { open } from "../mod.ts";
import { openNodeSqlite } from "../adapters/node_sqlite.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { runtimeKey } from "./_runtime.ts";
import { exited, LineReader, runScript, RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";
import { sleep } from "./_helpers.ts";
import {
  ackWithMarker,
  BUSINESS_DDL,
  DELAYED_JOB_S,
  QUEUE,
  VISIBILITY_TIMEOUT_S,
} from "./fixtures/litestream_peer.ts";
import type { OrderJob } from "./fixtures/litestream_peer.ts";

const PEER = fileURLToPath(new URL("./fixtures/litestream_peer.ts", import.meta.url));
/**
 * The binary itself, not `node_modules/.bin/litestream`: that is a Node wrapper running it with
 * spawnSync, and a SIGKILL of the wrapper would leave Litestream running.
 */
const LITESTREAM = fileURLToPath(
  new URL(
    `../node_modules/@flydotio/litestream-${process.platform}-${process.arch}/litestream`,
    import.meta.url,
  ),
);
const RUN_MS = 8000;
/** Replica sync interval; with Litestream's 1 s WAL monitor it bounds what a crash loses. */
const SYNC_INTERVAL_MS = 500;
/** Every ack older than this at the SIGKILL must be in the replica (generous: a busy CI host). */
const LOSS_BOUND_MS = 6000;

const noLitestream = existsSync(LITESTREAM) ? undefined : `the litestream binary is missing ` +
  `(${LITESTREAM}): npm ci installs it with the @flydotio/litestream devDependency, on linux ` +
  "and darwin, x64 and arm64";
const skip = runtimeKey() !== "node"
  ? "the Litestream recipe test starts all three runtimes and runs once, from the Node suite"
  : noLitestream ?? runtimeBinaryMissing();

function litestreamConfig(path: string, replica: string): string {
  // Low checkpoint thresholds so that Litestream's PASSIVE and RESTART checkpoints both run
  // while the workers write; debug logging so that the test can see them.
  return `logging:
  level: debug
dbs:
  - path: ${path}
    checkpoint-interval: 1s
    min-checkpoint-page-count: 200
    max-checkpoint-page-count: 2000
    replicas:
      - type: file
        path: ${replica}
        sync-interval: ${SYNC_INTERVAL_MS}ms
`;
}

function startPeer(
  runtime: keyof typeof RUNTIME_COMMANDS,
  args: readonly string[],
): ChildProcessWithoutNullStreams {
  const [bin, ...runtimeArgs] = RUNTIME_COMMANDS[runtime];
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return spawn(bin, [...runtimeArgs, PEER, ...args], { env });
}

/** Collects a child's stdout and stderr as one log, keeping only the lines `keep` matches. */
function logOf(child: ChildProcessWithoutNullStreams, keep = /./): { text: string } {
  const log = { text: "" };
  let partial = "";
  const add = (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (keep.test(line)) log.text += `${line}\n`;
  };
  child.stdout.setEncoding("utf8").on("data", add);
  child.stderr.setEncoding("utf8").on("data", add);
  return log;
}

const count = (driver: SqliteDriver, sql: string): number =>
  Number(driver.get<{ n: number }>(sql)?.n);

/** What the restored file must satisfy before anything writes to it. */
function checkRestored(restored: SqliteDriver, source: SqliteDriver, killAtMs: number): string {
  const integrity = restored.all<{ integrity_check: string }>("PRAGMA integrity_check");
  assert.deepEqual(integrity.map((r) => r.integrity_check), ["ok"]);
  // Acked jobs whose marker was replicated are not live again …
  assert.equal(
    count(restored, "SELECT count(*) AS n FROM acks a JOIN _honker_live l ON l.id = a.job_id"),
    0,
    "a job whose ack marker was replicated is live again",
  );
  // … and a job with no marker was not lost: it is still pending or claimed.
  assert.equal(
    count(
      restored,
      "SELECT count(*) AS n FROM orders o WHERE NOT EXISTS " +
        "(SELECT 1 FROM acks a WHERE a.order_id = o.id) AND NOT EXISTS " +
        "(SELECT 1 FROM _honker_live l WHERE l.id = o.job_id)",
    ),
    0,
    "an order lost its job without an ack marker",
  );
  const restoredAcks = new Map(
    restored.all<{ order_id: number; acked_ms: number }>("SELECT order_id, acked_ms FROM acks")
      .map((r) => [Number(r.order_id), Number(r.acked_ms)]),
  );
  const sourceAcks = source.all<{ order_id: number; acked_ms: number }>(
    "SELECT order_id, acked_ms FROM acks",
  );
  assert.ok(restoredAcks.size >= 50, `only ${restoredAcks.size} acks were replicated`);
  const sourceIds = new Set(sourceAcks.map((r) => Number(r.order_id)));
  const phantom = [...restoredAcks.keys()].filter((id) => !sourceIds.has(id));
  assert.deepEqual(phantom, [], "the replica holds acks the source never had");
  const lost = sourceAcks.filter((r) =>
    Number(r.acked_ms) <= killAtMs - LOSS_BOUND_MS && !restoredAcks.has(Number(r.order_id))
  );
  assert.deepEqual(lost.map((r) => r.order_id), [], `acks older than ${LOSS_BOUND_MS} ms lost`);
  const newest = Math.max(...restoredAcks.values());
  return `${restoredAcks.size} of ${sourceAcks.length} acks replicated; the newest was acked ` +
    `${killAtMs - newest} ms before the SIGKILL`;
}

/** Opens the restored file with honker-ts and works every job that is left. */
async function carryOn(path: string): Promise<string> {
  const db = await open(path);
  try {
    const left = () =>
      count(
        db.driver,
        "SELECT count(*) AS n FROM orders o WHERE NOT EXISTS " +
          "(SELECT 1 FROM acks a WHERE a.order_id = o.id)",
      );
    const before = left();
    const claimed = count(
      db.driver,
      "SELECT count(*) AS n FROM _honker_live WHERE state = 'processing'",
    );
    assert.ok(before > 0, "the restored file has no job left to carry on with");
    const controller = new AbortController();
    const queue = db.queue<OrderJob>(QUEUE, { visibilityTimeoutS: VISIBILITY_TIMEOUT_S });
    const worked = queue.work((job) => ackWithMarker(db, job, "after-restore"), {
      concurrency: 4,
      signal: controller.signal,
      idlePollMs: 200,
    });
    const deadline = Date.now() + 10_000 + (VISIBILITY_TIMEOUT_S + DELAYED_JOB_S) * 1000;
    while (left() > 0 && Date.now() < deadline) await sleep(100);
    controller.abort();
    await worked;
    assert.equal(left(), 0, "jobs of the restored file were never acked");
    assert.equal(count(db.driver, "SELECT count(*) AS n FROM _honker_live"), 0);
    assert.equal(count(db.driver, "SELECT count(*) AS n FROM _honker_dead"), 0);
    return `${before} jobs (${claimed} of them claimed by a killed worker)`;
  } finally {
    db.close();
  }
}

describe("continuous backup with Litestream", () => {
  it(
    "a file restored after SIGKILLing the workers and Litestream keeps every replicated ack, and honker-ts carries on",
    { skip, timeout: 90_000 },
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "honker-ts-litestream-"));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "app.db");
      const replica = join(dir, "replica");
      const config = join(dir, "litestream.yml");
      writeFileSync(config, litestreamConfig(path, replica));
      const setup = await open(path);
      setup.driver.exec(BUSINESS_DDL);
      setup.close();

      const litestream = spawn(LITESTREAM, ["replicate", "-config", config]);
      const litestreamLog = logOf(
        litestream,
        /msg=checkpoint |generation|snapshot written|ERROR|WARN/,
      );
      const peers = [
        startPeer("node", [path, "producer", "1"]),
        startPeer("deno", [path, "worker", "deno"]),
        startPeer("bun", [path, "worker", "bun"]),
        startPeer("node", [path, "worker", "node", String(RUN_MS / 2)]),
      ];
      const readers = peers.map((p) => new LineReader(p));
      const stderr = peers.map((peer) => logOf(peer));
      let killAtMs = 0;
      try {
        for (let t = 0; !/snapshot written/.test(litestreamLog.text); t++) {
          assert.ok(t < 300, `Litestream never wrote its first snapshot:\n${litestreamLog.text}`);
          await sleep(100);
        }
        await Promise.all(readers.map((r) => r.waitFor(/^ready$/, 30_000)));
        await sleep(RUN_MS);
        await readers[3].waitFor(/^closed$/, 10_000);
      } finally {
        killAtMs = Date.now();
        for (const child of [...peers, litestream]) child.kill("SIGKILL");
        await Promise.all([...peers, litestream].map((child) => exited(child)));
      }

      const errors = readers.flatMap((r) => r.lines.filter((l) => l.startsWith('{"error"')));
      const slowestMs = Math.max(
        0,
        ...readers.flatMap((r) => r.lines.filter((l) => l.startsWith('{"slowestMs"')))
          .map((l) => Number(JSON.parse(l).slowestMs)),
      );
      const checkpoints = [
        ...litestreamLog.text.matchAll(/msg=checkpoint .*mode=(\w+) result=(\d+)/g),
      ];
      const restarts = checkpoints.filter((c) => c[1] === "RESTART");
      t.diagnostic(`peer errors: ${errors.length} ${errors.slice(0, 3).join(" ")}`);
      t.diagnostic(`slowest ack transaction in a worker: ${slowestMs} ms`);
      t.diagnostic(
        `Litestream checkpoints: ${checkpoints.length}, RESTART ${restarts.length} ` +
          `(${restarts.filter((c) => c[2] !== "0").length} held up by a reader or writer)`,
      );
      assert.ok(checkpoints.length > 0, "Litestream never checkpointed during the run");
      assert.equal(
        readdirSync(join(replica, "generations")).length,
        1,
        `Litestream started a new generation:\n${
          litestreamLog.text.split("\n").filter((l) => /generation/.test(l)).join("\n")
        }\n${stderr.map((s) => s.text).join("\n")}`,
      );

      const restoredPath = join(dir, "restored.db");
      await promisify(execFile)(LITESTREAM, [
        "restore",
        "-config",
        config,
        "-o",
        restoredPath,
        path,
      ]);
      const restored = await openNodeSqlite(restoredPath);
      const source = await openNodeSqlite(path);
      try {
        t.diagnostic(checkRestored(restored, source, killAtMs));
      } finally {
        restored.close();
        source.close();
      }
      t.diagnostic(
        `drained from the restored file by honker-ts: ${await carryOn(restoredPath)}`,
      );
    },
  );
});

describe("examples/litestream_backup.ts", () => {
  it("runs the worker under litestream -exec, stops both with one SIGTERM and restores every ack", {
    skip: noLitestream,
    timeout: 60_000,
  }, async () => {
    const script = fileURLToPath(new URL("../examples/litestream_backup.ts", import.meta.url));
    const result = await runScript(script);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /worker: stopped by SIGTERM/);
    assert.match(result.stdout, /restored copy: integrity ok, 100 receipts, 0 jobs left/);
  });
});
