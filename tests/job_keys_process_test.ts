// Unique jobs across processes and runtimes: Node, Deno and Bun processes enqueue the same keys
// over and over while they and a worker made of honker's real extension claim and ack. At no
// moment do two live jobs share a key, every key's jobs run, and a key freed by either side's
// ack admits a new job.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";
import { tempDbPath } from "./_helpers.ts";
import { honkerExtSkip } from "./_honker_ext.ts";
import { runtimeKey } from "./_runtime.ts";
import { collect, LineReader, RUNTIME_COMMANDS, runtimeBinaryMissing } from "./_spawn.ts";

const PEER = fileURLToPath(new URL("./fixtures/job_keys_peer.ts", import.meta.url));
const HONKER = fileURLToPath(new URL("./fixtures/job_keys_honker_worker.ts", import.meta.url));
const KEYS = 200;
const ROUNDS = Number(process.env.KEYS_ROUNDS ?? 250); // 4 × 250 × 200 = 200,000 enqueues
const GROUP = 10; // enqueues per transaction
const CLAIM = 3; // jobs a peer claims and acks after each group: fewer than it adds, so most
// enqueues meet a live job (a duplicate), and keys are freed all the time
const PEERS: ReadonlyArray<readonly [string, keyof typeof RUNTIME_COMMANDS]> = [
  ["node-a", "node"],
  ["deno", "deno"],
  ["bun", "bun"],
  ["node-b", "node"],
];

// One run covers all three runtimes, so it belongs to one suite only.
const skip = runtimeKey() !== "node"
  ? "the cross-runtime unique-jobs test runs once, from the Node suite"
  : runtimeBinaryMissing() ?? await honkerExtSkip();

function start(runtime: keyof typeof RUNTIME_COMMANDS, script: string, args: string[]) {
  const [bin, ...flags] = RUNTIME_COMMANDS[runtime];
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return spawn(bin, [...flags, script, ...args], { env }) as ChildProcessWithoutNullStreams;
}

type LogRow = { seq: number; kind: "insert" | "ack"; k: string; job_id: number; who: string };

describe("unique jobs across processes and runtimes", () => {
  it("no two live jobs ever share a key; every key's jobs run; both sides' acks free keys", {
    skip,
    timeout: 120_000,
  }, async () => {
    const path = tempDbPath();
    const db = await open(path);
    db.driver.exec(`CREATE TABLE keys_log (seq INTEGER PRIMARY KEY AUTOINCREMENT,
      kind TEXT NOT NULL, k TEXT NOT NULL, job_id INTEGER NOT NULL, who TEXT NOT NULL)`);
    const honker = start("node", HONKER, [path]);
    const honkerOut = collect(honker);
    await new LineReader(honker).waitFor(/^ready$/, 30_000);
    const startedAt = Date.now();
    const peers = PEERS.map(([name, runtime], i) => ({
      name,
      done: collect(
        start(runtime, PEER, [
          path,
          name,
          String(ROUNDS),
          String(KEYS),
          String(GROUP),
          String(CLAIM),
          `${i * 37}`,
        ]),
      ),
    }));
    let samples = 0;
    let running = true;
    const results = Promise.all(peers.map((p) => p.done)).finally(() => (running = false));
    while (running) {
      const dup = db.driver.all(`SELECT json_extract(payload, '$.k') AS k, count(*) AS n
        FROM _honker_live WHERE queue = 'uniq' GROUP BY k HAVING n > 1`);
      assert.deepEqual(dup.map((r) => ({ ...r })), [], "two live jobs share a key");
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const outs = await results;
    honker.stdin.end();
    const honkerResult = await honkerOut;
    const elapsedMs = Date.now() - startedAt;
    for (const [i, out] of outs.entries()) {
      assert.equal(out.code, 0, `${PEERS[i][0]} failed: ${out.stderr}`);
    }
    assert.equal(honkerResult.code, 0, `honker's worker failed: ${honkerResult.stderr}`);

    // Drain what is left, logging the acks like the peers do.
    const q = db.queue<{ k: string }>("uniq");
    for (
      let jobs = q.claimBatch("drain", 500);
      jobs.length > 0;
      jobs = q.claimBatch("drain", 500)
    ) {
      db.transaction((tx) => {
        for (const job of jobs) {
          job.ack();
          tx.run("INSERT INTO keys_log (kind, k, job_id, who) VALUES ('ack', ?, ?, 'drain')", [
            job.payload.k,
            job.id,
          ]);
        }
      });
    }
    assert.equal(db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_live")?.n, 0);
    assert.equal(q.stats().dead, 0);
    q.sweepExpired();
    assert.equal(
      db.driver.get<{ n: number }>("SELECT count(*) AS n FROM _honker_ts_job_keys")?.n,
      0,
      "every ack left a stale key row, swept",
    );

    // The trigger-free check: the log holds every add and every ack in commit order. Per key it
    // must alternate add, ack, add, ack …, each ack of the job added just before.
    const log = db.driver.all<LogRow>(
      "SELECT seq, kind, k, job_id, who FROM keys_log ORDER BY seq",
    );
    const byKey = new Map<string, LogRow[]>();
    for (const row of log) byKey.set(row.k, [...(byKey.get(row.k) ?? []), row]);
    assert.equal(byKey.size, KEYS, "every key got a job");
    let freedByHonker = 0;
    let freedByUs = 0;
    for (const [k, rows] of byKey) {
      rows.forEach((row, i) => {
        const want = i % 2 === 0 ? "insert" : "ack";
        assert.equal(
          row.kind,
          want,
          `key ${k}: ${want} expected at ${i}: ${
            JSON.stringify(rows.slice(Math.max(0, i - 2), i + 1))
          }`,
        );
        if (want === "ack") {
          assert.equal(row.job_id, rows[i - 1].job_id, `key ${k}: ack of another job`);
        }
        if (want === "insert" && i > 0) {
          if (rows[i - 1].who === "honker") freedByHonker++;
          else freedByUs++;
        }
      });
      assert.equal(rows.length % 2, 0, `key ${k}: its last job was never acked`);
    }
    const created = outs.reduce((n, o) => n + JSON.parse(o.stdout).created, 0);
    const inserts = log.filter((r) => r.kind === "insert").length;
    assert.equal(created, inserts);
    assert.ok(freedByHonker > 0, "no key freed by honker's ack admitted a new job");
    assert.ok(freedByUs > 0, "no key freed by honker-ts's ack admitted a new job");
    const acks = (who: string) => log.filter((r) => r.kind === "ack" && r.who === who).length;
    console.log(
      `unique jobs: ${PEERS.length} processes × ${ROUNDS} rounds × ${KEYS} keys = ` +
        `${PEERS.length * ROUNDS * KEYS} enqueues in ${elapsedMs} ms; ${inserts} jobs added ` +
        `(${freedByHonker} after honker's ack, ${freedByUs} after honker-ts's); acks: ` +
        `${PEERS.map(([n]) => `${n} ${acks(n)}`).join(", ")}, honker ${acks("honker")}, ` +
        `drain ${acks("drain")}; ${samples} duplicate samples, none found`,
    );
    db.close();
  });
});
