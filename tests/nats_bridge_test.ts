// The NATS bridge (honker-ts/bridges/nats) against a real 3-node nats-server JetStream cluster:
// every event stored once with its id, offset and source; the position saved only after the
// acknowledgements; a restart reconciled with what JetStream holds (past the duplicate window,
// and after JetStream lost messages); one leader per file; the inbox applying each message once.

import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import {
  fileId,
  inboxSources,
  JetStreamInbox,
  natsBridge,
  OutboxBridge,
  reconcile,
} from "../bridges/nats/mod.ts";
import type { Sink } from "../bridges/nats/mod.ts";
import { eventually, sleep, tempDbPath } from "./_helpers.ts";
import { addStream, natsSkipReason, readBack, startCluster } from "./_nats.ts";
import type { NatsCluster } from "./_nats.ts";

const skip = natsSkipReason();

/** Runs a bridge until `done()` holds, then stops it. */
async function bridgeUntil(bridge: OutboxBridge, done: () => boolean, withinMs = 20_000) {
  const stop = new AbortController();
  const running = bridge.run({ signal: stop.signal });
  try {
    await eventually(done, withinMs, "the bridge caught up");
  } finally {
    stop.abort();
    await running;
  }
}

function offsetsOf(db: Database, topic: string): number[] {
  return db.driver.all<{ offset: number }>(
    "SELECT offset FROM _honker_stream WHERE topic = ? ORDER BY offset",
    [topic],
  ).map((row) => row.offset);
}

describe("honker-ts/bridges/nats", { skip }, () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let n = 0;
  /** A fresh stream name and subject per test. */
  const fresh = () => ({ stream: `S${++n}`, subject: `t${n}.events` });

  before(async () => {
    cluster = await startCluster();
    nc = await cluster.connect();
  });
  const opened: Database[] = [];
  const openDb = async (path = tempDbPath()) => {
    const db = await open(path);
    opened.push(db);
    return db;
  };
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
  });
  after(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it("publishes every event once, with its id, offset and source, and saves the position", async () => {
    const { stream, subject } = fresh();
    await addStream(nc, stream, [subject]);
    const db = await openDb();
    const orders = db.stream("orders");
    orders.publishMany(Array.from({ length: 500 }, (_, i) => ({ i })));
    db.stream("other").publish({ noise: true }); // a gap in the topic's offsets
    orders.publishMany(Array.from({ length: 500 }, (_, i) => ({ i: 500 + i })), { key: "k" });
    const bridge = natsBridge(db, nc, { topic: "orders", subject, windowSize: 64 });
    await bridgeUntil(bridge, () => bridge.stats().lag === 0);
    const stored = await readBack(nc, stream, subject);
    const offsets = offsetsOf(db, "orders");
    assert.deepEqual(stored.map((m) => m.offset).sort((a, b) => a - b), offsets);
    assert.ok(stored.every((m) => m.source === `${fileId(db)}:orders`));
    assert.deepEqual(stored.find((m) => m.offset === offsets[700])?.payload, { i: 700 });
    const stats = bridge.stats();
    assert.equal(stats.position, offsets.at(-1));
    assert.equal(stats.published, 1000);
    assert.equal(stats.leader, false);
    const last = await (await jetstreamManager(nc)).streams.getMessage(stream, {
      last_by_subj: subject,
    });
    assert.match(last!.header.get("Nats-Msg-Id"), new RegExp(`^${fileId(db)}:orders:\\d+$`));
  });

  it("on restart skips what JetStream stored after the last save, past the duplicate window", async () => {
    const { stream, subject } = fresh();
    await addStream(nc, stream, [subject], 200); // a 200 ms duplicate window
    const db = await openDb();
    db.stream("orders").publishMany(Array.from({ length: 300 }, (_, i) => ({ i })));
    const first = natsBridge(db, nc, { topic: "orders", subject, name: "b" });
    await bridgeUntil(first, () => first.stats().lag === 0);
    // As if the process died after JetStream's acks and before the file recorded them.
    db.driver.run("DELETE FROM _honker_stream_consumers WHERE name = 'honker-ts-bridge:b'");
    await sleep(400); // JetStream no longer remembers the ids
    db.stream("orders").publishMany(Array.from({ length: 50 }, (_, i) => ({ i: 300 + i })));
    const second = natsBridge(db, nc, { topic: "orders", subject, name: "b" });
    await bridgeUntil(second, () => second.stats().lag === 0);
    const stored = await readBack(nc, stream, subject);
    assert.equal(stored.length, 350, "an event was stored twice or lost");
    assert.equal(new Set(stored.map((m) => m.offset)).size, 350);
    assert.equal(second.stats().published, 50);
  });

  it("on restart publishes again what JetStream lost at its tail", async () => {
    const { stream, subject } = fresh();
    await addStream(nc, stream, [subject], 200);
    const db = await openDb();
    db.stream("orders").publishMany(Array.from({ length: 100 }, (_, i) => ({ i })));
    const first = natsBridge(db, nc, { topic: "orders", subject });
    await bridgeUntil(first, () => first.stats().lag === 0);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    for (let seq = info.state.last_seq; seq > info.state.last_seq - 10; seq--) {
      await jsm.streams.deleteMessage(stream, seq);
    }
    await sleep(400);
    const second = natsBridge(db, nc, { topic: "orders", subject });
    const stop = new AbortController();
    const running = second.run({ signal: stop.signal });
    await eventually(() => second.stats().published === 10, 20_000, "republished the lost 10");
    stop.abort();
    await running;
    const stored = await readBack(nc, stream, subject);
    assert.deepEqual(stored.map((m) => m.offset).sort((a, b) => a - b), offsetsOf(db, "orders"));
  });

  it("runs one leader among many bridges of one name, and another takes over", async () => {
    const { stream, subject } = fresh();
    await addStream(nc, stream, [subject]);
    const path = tempDbPath();
    const a = await openDb(path);
    const b = await openDb(path);
    const bridges = [a, b].map((db) =>
      natsBridge(db, nc, { topic: "orders", subject, lockTtlS: 2 })
    );
    const stops = bridges.map(() => new AbortController());
    const runs = bridges.map((bridge, i) => bridge.run({ signal: stops[i].signal }));
    a.stream("orders").publishMany(Array.from({ length: 200 }, (_, i) => ({ i })));
    await eventually(() => bridges[0].stats().lag === 0, 20_000, "caught up");
    await eventually(() => bridges.some((x) => x.stats().leader), 5_000, "a leader");
    const leader = bridges.findIndex((x) => x.stats().leader);
    assert.equal(bridges.filter((x) => x.stats().leader).length, 1);
    stops[leader].abort();
    await runs[leader];
    a.stream("orders").publishMany(Array.from({ length: 100 }, (_, i) => ({ i: 200 + i })));
    const other = bridges[1 - leader];
    await eventually(() => other.stats().lag === 0, 20_000, "the other bridge took over");
    stops[1 - leader].abort();
    await runs[1 - leader];
    const stored = await readBack(nc, stream, subject);
    assert.equal(stored.length, 300);
    assert.equal(new Set(stored.map((m) => m.offset)).size, 300);
  });

  it("the inbox applies each message once, whatever JetStream delivers again", async () => {
    const { stream, subject } = fresh();
    await addStream(nc, stream, [subject], 200);
    const source = await openDb();
    const sink = await openDb();
    source.stream("orders").publishMany(Array.from({ length: 100 }, (_, i) => ({ i })));
    const bridge = natsBridge(source, nc, { topic: "orders", subject });
    await bridgeUntil(bridge, () => bridge.stats().lag === 0);
    // A publisher that repeats itself after the duplicate window: JetStream stores it twice.
    await sleep(400);
    const js = jetstream(nc);
    const last = (await readBack(nc, stream, subject)).at(-1)!;
    const h = headers();
    h.set("Honker-Offset", String(last.offset));
    h.set("Honker-Source", last.source);
    await js.publish(subject, JSON.stringify(last.payload), {
      msgID: `${last.source}:${last.offset}`,
      headers: h,
    });
    const inbox = new JetStreamInbox(sink, nc, {
      stream,
      consumer: "b",
      apply: (message, tx) => sink.stream("copy").publish(message.payload, { tx }),
    });
    const stop = new AbortController();
    const running = inbox.run({ signal: stop.signal });
    await eventually(() => inbox.stats().applied + inbox.stats().duplicates === 101, 20_000, "all");
    stop.abort();
    await running;
    const copied = sink.stream("copy").readSince(0, 1000).map((e) =>
      (e.payload as { i: number }).i
    );
    assert.deepEqual(copied, Array.from({ length: 100 }, (_, i) => i));
    assert.equal(inbox.stats().duplicates, 1);
    assert.deepEqual(inboxSources(sink).map((s) => [s.source, s.applied]), [[last.source, 100]]);
  });

  it("the inbox prunes records past retentionS: a replay applies again only what was pruned", async () => {
    const { stream, subject } = fresh();
    await addStream(nc, stream, [subject]);
    const source = await openDb();
    const sink = await openDb();
    source.stream("orders").publishMany(Array.from({ length: 40 }, (_, i) => ({ i })));
    const bridge = natsBridge(source, nc, { topic: "orders", subject });
    await bridgeUntil(bridge, () => bridge.stats().lag === 0);
    /** Consumes the whole stream through a new durable consumer: every message delivered again. */
    const consume = async (consumer: string) => {
      const inbox = new JetStreamInbox(sink, nc, {
        stream,
        consumer,
        retentionS: 3600,
        apply: (message, tx) => sink.stream("copy").publish(message.payload, { tx }),
      });
      const stop = new AbortController();
      const running = inbox.run({ signal: stop.signal });
      await eventually(() => inbox.stats().applied + inbox.stats().duplicates === 40, 20_000, "40");
      stop.abort();
      await running;
      return inbox.stats();
    };
    const first = await consume("first");
    assert.deepEqual([first.applied, first.duplicates, first.pruned], [40, 0, 0]);
    // The records of the first 10 events are two hours old, past the one-hour retention.
    sink.driver.run(
      "UPDATE _honker_ts_inbox SET applied_at = applied_at - 7200 WHERE rowid IN " +
        "(SELECT rowid FROM _honker_ts_inbox ORDER BY offset LIMIT 10)",
    );
    const replay = await consume("replay");
    assert.deepEqual([replay.applied, replay.duplicates, replay.pruned], [10, 30, 10]);
    const copied = sink.stream("copy").readSince(0, 1000).map((e) =>
      (e.payload as { i: number }).i
    );
    assert.deepEqual(
      copied.slice(40).sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.equal(copied.length, 50);
  });

  it("reconcile() resumes after the saved position, skipping what the sink holds", () => {
    assert.deepEqual(reconcile(10, []), { start: 10, skip: new Set() });
    assert.deepEqual(reconcile(10, [9, 12, 14]), { start: 10, skip: new Set([12, 14]) });
    assert.deepEqual(reconcile(10, [5, 7]), { start: 7, skip: new Set() });
  });

  it("refuses bad options before anything is written", async () => {
    const db = await openDb();
    assert.throws(
      () => natsBridge(db, nc, { topic: "t", subject: "s", windowSize: 0 }),
      /Cannot start a bridge of stream "t": windowSize must be/,
    );
    assert.throws(
      () => natsBridge(db, nc, { topic: "t", subject: "s", windowSzie: 2 } as never),
      /windowSzie/,
    );
    assert.throws(() => natsBridge(db, nc, { topic: "t" } as never), /subject must be a string/);
    const sink = {} as Sink;
    assert.throws(() => new OutboxBridge(db, "t", sink), /sink must be a Sink/);
    assert.throws(
      () => new JetStreamInbox(db, nc, { stream: "S", consumer: "c" } as never),
      /apply must be a function/,
    );
    assert.equal(
      db.driver.get<{ n: number }>(
        "SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '_honker_ts_file_id'",
      )?.n,
      0,
    );
  });
});
