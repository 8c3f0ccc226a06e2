/**
 * The NATS bridge against raw JetStream publishing, and end-to-end latency between two hosts
 * (issue #21), on a real 3-node nats-server cluster started for the run (streams of 3 replicas).
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/nats_bridge_bench.ts [--quick] [--rounds 7] [--no-latency]
 * node_modules/.bin/deno run -A bench/nats_bridge_bench.ts
 * node_modules/.bin/bun bench/nats_bridge_bench.ts
 * ```
 *
 * - Publish rate: the bridge draining a backlog of N events from a file, against
 *   `@nats-io/jetstream`'s `publish()` of N messages of the same size, id and headers with the
 *   same window in flight, interleaved in the same run (raw, bridge, bridge, raw, …: who goes
 *   first alternates), each round on a fresh JetStream stream (one subject per side: both runs of
 *   a round talk to the same stream leader). Both rates run from the first publish to the last
 *   acknowledgement; the bridge's start (lock, reconciliation) is printed apart. The ratio is the
 *   median of the per-round ratios (a noisy machine slows both of a round's runs alike), after an
 *   unmeasured warm-up of each; the median of each side is printed too. Target: bridge / raw ≥ 0.8.
 * - Latency: a commit on file A → the event in file B, with the bridge (host A) and the inbox
 *   (host B) each in its own process, events committed one by one at a steady pace, seen here
 *   through `waitForEvents()` on file B. p50 / p99 in milliseconds.
 *
 * `--quick` uses tiny sizes (for the test that runs it on each runtime). A plain timed run, not
 * mitata: a publish rate over a network is a throughput, not a function's time.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { headers } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { JetStreamSink, OutboxBridge } from "../bridges/nats/mod.ts";
import type { Sink } from "../bridges/nats/mod.ts";
import { addStream, natsSkipReason, startCluster } from "../tests/_nats.ts";
import type { NatsCluster } from "../tests/_nats.ts";
import { tempDbPath } from "../tests/_helpers.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { exited, LineReader, spawnScript } from "../tests/_spawn.ts";

const quick = process.argv.includes("--quick");
const N = quick ? 500 : 10_000;
const WINDOW = 128;
const ROUNDS = quick ? 2 : Number(argValue("--rounds") ?? 7);
const LATENCY_EVENTS = quick ? 40 : 400;
const LATENCY_GAP_MS = quick ? 10 : 10;
const PAYLOAD = { order: 12345, customer: "c-000123", total: 99.5, items: ["a", "b", "c"] };
const PEER = fileURLToPath(new URL("../tests/fixtures/nats_peer.ts", import.meta.url));

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

let streams = 0;
/**
 * A fresh JetStream stream for one round, with a subject for each side: the two runs of a round
 * then talk to the same stream leader (a fresh stream's leader lands on any of the three nodes,
 * near or far from the connection, which alone moves the rate by up to 2×).
 */
async function freshRound(nc: NatsConnection): Promise<{ raw: string; bridge: string }> {
  const name = `B${++streams}`;
  const subjects = { raw: `b${streams}.raw`, bridge: `b${streams}.bridge` };
  await addStream(nc, name, [subjects.raw, subjects.bridge]);
  return subjects;
}

/**
 * Raw publish() of n messages like the bridge's, WINDOW lanes in flight; messages per second.
 * Each message is what the bridge sends: the payload's JSON text encoded, the same headers with
 * values of the same length (a file-id-sized source, a unix-second timestamp) and the same id.
 */
async function rawRate(nc: NatsConnection, subject: string, n = N): Promise<number> {
  const js = jetstream(nc, { timeout: 5_000 });
  const encoder = new TextEncoder();
  const text = JSON.stringify(PAYLOAD);
  const source = `${crypto.randomUUID()}:orders`;
  const createdAt = String(Math.floor(Date.now() / 1000));
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < n) {
      const offset = ++next;
      const h = headers();
      h.set("Honker-Offset", String(offset));
      h.set("Honker-Source", source);
      h.set("Honker-Created-At", createdAt);
      await js.publish(subject, encoder.encode(text), { msgID: `${source}:${offset}`, headers: h });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return n / ((performance.now() - started) / 1000);
}

/**
 * A file with a backlog of n events for the bridge, made at the start of a round, before either
 * run: its writes (and the garbage they leave) then weigh on neither run in particular.
 */
async function backlog(n = N): Promise<Database> {
  const db = await open(tempDbPath());
  const orders = db.stream("orders");
  for (let done = 0; done < n; done += 1000) {
    orders.publishMany(Array.from({ length: Math.min(1000, n - done) }, () => PAYLOAD));
  }
  return db;
}

/** One bridge run: its publish rate (events per second) and how long it took to start. */
interface BridgeRun {
  rate: number;
  startMs: number;
}

/**
 * The bridge (what `natsBridge()` builds: an OutboxBridge over a JetStreamSink) draining a backlog
 * of n events, WINDOW in flight. The rate runs from its first publish to the last
 * acknowledgement, as the raw rate does; the start (lock, reconciliation with JetStream's tail) is
 * reported apart. The end is seen by counting acknowledgements in a thin wrapper of the sink, not
 * by polling `stats()`, which counts the lag in SQL on the bridge's own thread.
 */
async function bridgeRate(
  nc: NatsConnection,
  db: Database,
  subject: string,
  n = N,
): Promise<BridgeRun> {
  try {
    const jetStream = new JetStreamSink(nc, { subject });
    let firstAt = 0;
    let acked = 0;
    let allAcked: () => void = () => {};
    const finished = new Promise<void>((resolve) => (allAcked = resolve));
    const sink: Sink = {
      name: jetStream.name,
      heldOffsets: (source, scan) => jetStream.heldOffsets(source, scan),
      publish: async (message) => {
        firstAt ||= performance.now();
        await jetStream.publish(message);
        if (++acked === n) allAcked();
      },
    };
    const bridge = new OutboxBridge(db, "orders", sink, { windowSize: WINDOW });
    const stop = new AbortController();
    const started = performance.now();
    const running = bridge.run({ signal: stop.signal });
    await finished;
    const elapsedS = (performance.now() - firstAt) / 1000;
    stop.abort();
    await running;
    return { rate: n / elapsedS, startMs: firstAt - started };
  } finally {
    db.close();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Commit on file A → event in file B, through two processes; the sorted latencies in ms. */
async function latencies(cluster: NatsCluster, nc: NatsConnection): Promise<number[]> {
  const stream = `B${streams + 1}`;
  const subject = (await freshRound(nc)).bridge;
  const [pathA, pathB] = [tempDbPath(), tempDbPath()];
  const a = await open(pathA);
  const b = await open(pathB);
  const servers = cluster.servers.join(",");
  const peers = [
    spawnScript(PEER, ["bridge", pathA, servers, "orders", subject, "2"]),
    spawnScript(PEER, ["inbox", pathB, servers, stream, "host-b", "copy"]),
  ];
  try {
    await Promise.all(peers.map((p) => new LineReader(p).waitFor(/^ready$/, 30_000)));
    const out = a.stream<{ i: number; atMs: number }>("orders");
    const copy = b.stream<{ i: number; atMs: number }>("copy");
    // Warm up: the bridge has taken its lock and reconciled, the inbox made its consumer.
    out.publish({ i: -1, atMs: 0 });
    const [warm] = await copy.waitForEvents(0, { timeoutMs: 30_000 });
    if (warm === undefined) throw new Error("Cannot measure latency: nothing arrived in 30 s");
    const seen: number[] = [];
    const watching = (async () => {
      let offset = warm.offset;
      while (seen.length < LATENCY_EVENTS) {
        const events = await copy.waitForEvents(offset, { timeoutMs: 30_000 });
        if (events.length === 0) throw new Error("Cannot measure latency: no event in 30 s");
        const now = performance.timeOrigin + performance.now();
        for (const event of events) {
          seen.push(now - event.payload.atMs);
          offset = event.offset;
        }
      }
    })();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      out.publish({ i, atMs: performance.timeOrigin + performance.now() });
      await new Promise((r) => setTimeout(r, LATENCY_GAP_MS));
    }
    await watching;
    return seen.sort((x, y) => x - y);
  } finally {
    for (const peer of peers) peer.stdin.end();
    await Promise.all(
      peers.map((p) => Promise.race([exited(p), new Promise((r) => setTimeout(r, 5_000))])),
    );
    for (const peer of peers) if (peer.exitCode === null) peer.kill("SIGKILL");
    a.close();
    b.close();
  }
}

async function main(): Promise<void> {
  const skipReason = natsSkipReason();
  if (skipReason) {
    console.log(`nats_bridge_bench skipped: ${skipReason}`);
    return;
  }
  const cluster = await startCluster();
  const nc = await cluster.connect();
  try {
    console.log(
      `nats_bridge_bench on ${runtimeKey()}: 3-node nats-server cluster, streams of 3 replicas, ` +
        `${N} events, window ${WINDOW}${quick ? " (--quick)" : ""}`,
    );
    const raw: number[] = [];
    const bridged: number[] = [];
    const startsMs: number[] = [];
    const ratios: number[] = [];
    // Warm up (JIT, connections, the cluster's first stream placements): not measured.
    const warm = await freshRound(nc);
    await rawRate(nc, warm.raw, Math.ceil(N / 5));
    await bridgeRate(nc, await backlog(Math.ceil(N / 5)), warm.bridge, Math.ceil(N / 5));
    for (let round = 0; round < ROUNDS; round++) {
      const subjects = await freshRound(nc);
      const db = await backlog();
      // Alternate which goes first, so a drift of the machine's load favours neither.
      let r: number;
      let b: BridgeRun;
      if (round % 2 === 0) {
        r = await rawRate(nc, subjects.raw);
        b = await bridgeRate(nc, db, subjects.bridge);
      } else {
        b = await bridgeRate(nc, db, subjects.bridge);
        r = await rawRate(nc, subjects.raw);
      }
      raw.push(r);
      bridged.push(b.rate);
      startsMs.push(b.startMs);
      ratios.push(b.rate / r);
    }
    const ratio = median(ratios);
    const f = (n: number) => n.toFixed(0).padStart(10);
    const list = (xs: number[], digits = 0) => xs.map((x) => x.toFixed(digits)).join(", ");
    console.log(`\n${"publish rate (msg/s)".padEnd(30)}${"median".padStart(10)}  rounds`);
    console.log(`${"raw @nats-io/jetstream".padEnd(30)}${f(median(raw))}  ${list(raw)}`);
    console.log(`${"honker-ts bridge".padEnd(30)}${f(median(bridged))}  ${list(bridged)}`);
    console.log(
      `${"per-round bridge / raw".padEnd(30)}${ratio.toFixed(2).padStart(10)}  ${list(ratios, 2)}`,
    );
    console.log(
      `bridge start (lock, reconciliation), not in its rate: median ${
        median(startsMs).toFixed(1)
      } ms`,
    );
    console.log(
      `bridge / raw: ${ratio.toFixed(2)}× (median of ${ROUNDS} interleaved rounds) ${
        ratio >= 0.8 ? "(target ≥ 0.8 met)" : "(target ≥ 0.8 NOT met)"
      }`,
    );
    if (process.argv.includes("--no-latency")) return;
    const sorted = await latencies(cluster, nc);
    console.log(
      `\ncommit on file A → event in file B (bridge and inbox in two processes, ${sorted.length} ` +
        `events ${LATENCY_GAP_MS} ms apart): p50 ${percentile(sorted, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(sorted, 99).toFixed(1)} ms`,
    );
  } finally {
    await nc.close();
    await cluster.stop();
  }
}

await main();
