/**
 * Stream benchmark: what honker-ts's streams cost over the raw-SQLite floor on the same driver
 * and beside honker's own SQL functions (its loadable extension in a node:sqlite connection),
 * then how soon another process sees a publish or a notify.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/stream_bench.ts
 * node_modules/.bin/deno run -A bench/stream_bench.ts
 * node_modules/.bin/bun bench/stream_bench.ts
 * node_modules/.bin/bun bench/stream_bench.ts --driver=bun-ffi   # any built-in adapter
 * ```
 *
 * - Publish: one event per transaction and 100 per transaction, each case on its own fresh WAL
 *   file (honker's pragmas). The floor is `BEGIN IMMEDIATE; INSERT …; COMMIT` on our driver;
 *   `publish()` outside a transaction is one autocommit INSERT, so the raw autocommit INSERT is
 *   shown too. Every honker-ts and raw case runs with the Database's watcher on, as in an app.
 * - Replay: one file holding 100,000 events of a topic, read to the end by `subscribe()` (a new
 *   consumer each time, saveEveryN 1000), by `readSince()` pages of 1000, by raw SELECT pages
 *   (payloads parsed), and by `honker_stream_read_since` pages (array and payloads parsed).
 * - Live latency: a publisher process and a receiver process of this runtime; the publisher
 *   commits 1000 events (then 1000 notifications) at seeded random 1–5 ms gaps; latency runs from
 *   the commit's return to the receiver's `for await` body, on clocks pinned to `Date.now()` tick
 *   edges (see `_wake_common.ts`), checked by pings over the pipes.
 *
 * Targets are judged on mitata's median, which a busy machine disturbs less than the mean.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { driverArg } from "./_driver_arg.ts";
import { honkerExtVersion, honkerSkipReason, inTx, openHonkerDriver } from "./_honker.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { liveLatency } from "./_stream_live.ts";
import type { Latency } from "./_stream_live.ts";
import { cleanUp, cleanUpOnExit } from "./_wake_child.ts";

const TOPIC = "bench";
/** About 70 bytes of JSON. */
const EVENT = { order: 123456, customer: "someone@example.com", total: 42.5 };
const PAYLOAD = JSON.stringify(EVENT);
const HUNDRED = Array.from({ length: 100 }, () => EVENT);
const REPLAY_EVENTS = 100_000;
const PAGE = 1000;
const LIVE_EVENTS = 1000;
const LIVE_GAP_MIN_MS = 1;
const LIVE_GAP_MAX_MS = 5;

const RAW_INSERT = "INSERT INTO _honker_stream (topic, key, payload) VALUES (?, ?, ?)";
const RAW_READ = "SELECT offset, topic, key, payload, created_at FROM _honker_stream " +
  "WHERE topic = ? AND offset > ? ORDER BY offset LIMIT ?";
const HONKER_PUBLISH = "SELECT honker_stream_publish(?, NULL, ?) AS offset";
const HONKER_READ = "SELECT honker_stream_read_since(?, ?, ?) AS events";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-stream-bench-"));
const driverName = driverArg();
let fileCount = 0;
const freshPath = () => join(dir, `case-${++fileCount}.db`);

/** A connection on one file: ours (a Database) or a bare driver (raw floor, honker). */
interface Fixture {
  db?: Database;
  driver: SqliteDriver;
  close(): void;
}

/** honker-ts on our default driver; the raw cases use its driver (same pragmas and schema). */
async function ours(path: string): Promise<Fixture> {
  const db = await open(path, { driver: driverName });
  return { db, driver: db.driver, close: () => db.close() };
}

/** A node:sqlite connection with honker's extension loaded, honker's pragmas and schema. */
async function honker(path: string): Promise<Fixture> {
  const driver = await openHonkerDriver(path);
  return { driver, close: () => driver.close() };
}

/** Registers `op` on a fixture opened on `path` (a fresh file unless given). */
function measure(
  name: string,
  openFixture: (path: string) => Promise<Fixture>,
  op: (f: Fixture) => () => unknown,
  path?: string,
): void {
  bench(name, async function* () {
    const fixture = await openFixture(path ?? freshPath());
    yield op(fixture);
    fixture.close();
  });
}

function registerPublish(withHonker: boolean): void {
  const rawOne = ({ driver }: Fixture) => driver.run(RAW_INSERT, [TOPIC, null, PAYLOAD]);
  const honkerOne = ({ driver }: Fixture) => driver.get(HONKER_PUBLISH, [TOPIC, PAYLOAD]);
  const hundred = (one: (f: Fixture) => unknown) => (f: Fixture) => () =>
    inTx(f.driver, () => {
      for (let i = 0; i < 100; i++) one(f);
    });
  group("publish 1 event per transaction", () =>
    summary(() => {
      measure("publish: raw tx", ours, (f) => () => inTx(f.driver, () => rawOne(f)));
      measure("publish: raw autocommit", ours, (f) => () => rawOne(f));
      measure("publish: ours", ours, ({ db }) => {
        const s = db!.stream(TOPIC);
        return () => s.publish(EVENT);
      });
      if (withHonker) measure("publish: honker", honker, (f) => () => honkerOne(f));
    }));
  group("publish 100 events per transaction", () =>
    summary(() => {
      measure("100/tx: raw", ours, hundred(rawOne));
      measure("100/tx: ours publishMany", ours, ({ db }) => {
        const s = db!.stream(TOPIC);
        return () => s.publishMany(HUNDRED);
      });
      measure("100/tx: ours 100 publish", ours, ({ db }) => {
        const s = db!.stream(TOPIC);
        return () => db!.transaction((tx) => HUNDRED.map((e) => s.publish(e, { tx })));
      });
      if (withHonker) measure("100/tx: honker", honker, hundred(honkerOne));
    }));
}

/** Pages through the topic with `read`, which returns the page's last offset and its size. */
function pages(read: (after: number) => [number, number]): number {
  let offset = 0;
  let total = 0;
  for (;;) {
    const [last, n] = read(offset);
    if (n === 0) return total;
    offset = last;
    total += n;
  }
}

function expectAll(n: number, what: string): void {
  if (n !== REPLAY_EVENTS) throw new Error(`Cannot bench: ${what} read ${n} of ${REPLAY_EVENTS}`);
}

async function registerReplay(withHonker: boolean): Promise<void> {
  const path = freshPath();
  const seed = await ours(path);
  inTx(seed.driver, () => {
    for (let i = 0; i < REPLAY_EVENTS; i++) seed.driver.run(RAW_INSERT, [TOPIC, null, PAYLOAD]);
  });
  seed.close();
  let consumer = 0;
  group(`replay ${REPLAY_EVENTS} stored events`, () =>
    summary(() => {
      measure("replay: ours subscribe", ours, ({ db }) => async () => {
        const sub = db!.stream(TOPIC).subscribe(`c${++consumer}`, { saveEveryN: 1000 });
        let n = 0;
        for await (const event of sub) {
          do_not_optimize(event);
          if (++n === REPLAY_EVENTS) break;
        }
      }, path);
      measure("replay: ours readSince", ours, ({ db }) => () => {
        const s = db!.stream(TOPIC);
        expectAll(
          pages((after) => {
            const events = s.readSince(after, PAGE);
            return [events.at(-1)?.offset ?? 0, events.length];
          }),
          "readSince()",
        );
      }, path);
      measure("replay: raw SELECT + JSON.parse", ours, ({ driver }) => () =>
        expectAll(
          pages((after) => {
            const rows = driver.all<{ offset: number; payload: string }>(RAW_READ, [
              TOPIC,
              after,
              PAGE,
            ]);
            for (const row of rows) do_not_optimize(JSON.parse(row.payload));
            return [rows.at(-1)?.offset ?? 0, rows.length];
          }),
          "raw SELECT",
        ), path);
      if (!withHonker) return;
      measure("replay: honker read_since", honker, ({ driver }) => () =>
        expectAll(
          pages((after) => {
            const text = driver.get<{ events: string }>(HONKER_READ, [TOPIC, after, PAGE])?.events;
            const events = JSON.parse(text ?? "[]") as Array<{ offset: number; payload: string }>;
            for (const e of events) do_not_optimize(JSON.parse(e.payload));
            return [events.at(-1)?.offset ?? 0, events.length];
          }),
          "honker_stream_read_since",
        ), path);
    }));
}

type Stats = Map<string, { avg: number; p50: number }>;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

const SUB = "replay: ours subscribe";
const READ = "replay: ours readSince";
const RAW_R = "replay: raw SELECT + JSON.parse";
const EXT_R = "replay: honker read_since";
/** [label, case a, case b, the least a/b throughput wanted (0: none)]. */
const RATIOS: Array<[string, string, string, number]> = [
  ["publish 1/tx: ours / raw tx floor", "publish: ours", "publish: raw tx", 0.85],
  ["publish 1/tx: ours / raw autocommit", "publish: ours", "publish: raw autocommit", 0],
  ["publish 1/tx: ours / honker", "publish: ours", "publish: honker", 0],
  ["publish 100/tx: publishMany / raw floor", "100/tx: ours publishMany", "100/tx: raw", 0.85],
  ["publish 100/tx: 100 publish / raw floor", "100/tx: ours 100 publish", "100/tx: raw", 0],
  ["publish 100/tx: publishMany / honker", "100/tx: ours publishMany", "100/tx: honker", 0],
  ["replay: subscribe / raw SELECT+parse", SUB, RAW_R, 0],
  ["replay: readSince / raw SELECT+parse", READ, RAW_R, 0],
  ["replay: subscribe / honker read_since", SUB, EXT_R, 0],
  ["replay: readSince / honker read_since", READ, EXT_R, 0],
];

const num = (x: number, digits = 2) => Number.isNaN(x) ? "–" : x.toFixed(digits);
const count = (x: number) => Number.isNaN(x) ? "–" : Math.round(x).toLocaleString("en-US");
const verdict = (ok: boolean, what: string) => `${ok ? "met" : "NOT MET"} (${what})`;

function report(stats: Stats, live: Latency[], note: string): void {
  const get = (name: string) => stats.get(name) ?? { avg: NaN, p50: NaN };
  const events = (name: string) =>
    name.startsWith("replay") ? REPLAY_EVENTS : name.startsWith("100") ? 100 : 1;
  const rate = (name: string, by: "avg" | "p50") => events(name) * 1e9 / get(name)[by];
  console.log(`\n${runtimeKey()} · ${driverName}${note}\n`);
  console.log(table(
    ["case", "mean µs/op", "p50 µs/op", "events/s (mean)", "events/s (p50)"],
    [...stats.keys()].map((n) => [
      n,
      num(get(n).avg / 1000, 1),
      num(get(n).p50 / 1000, 1),
      count(rate(n, "avg")),
      count(rate(n, "p50")),
    ]),
  ));
  console.log("\nRatios: events/s of a over events/s of b (targets judged on the median):\n");
  console.log(table(
    ["a / b", "by mean", "by p50", "target"],
    RATIOS.map(([label, a, b, least]) => {
      const [byMean, byP50] = [get(b).avg / get(a).avg, get(b).p50 / get(a).p50];
      return [label, num(byMean), num(byP50), least ? verdict(byP50 >= least, `≥ ${least}`) : ""];
    }),
  ));
  console.log("\nCross-process latency, commit returned → receiver's loop body (ms):\n");
  console.log(table(
    ["case", "p50", "p90", "p99", "max", "missed", "wake", "clock check", "target"],
    live.map((l) => [
      l.kind === "stream" ? "publish → subscribe" : "notify → listen",
      ...[l.p50, l.p90, l.p99, l.max].map((x) => num(x, 3)),
      String(l.missed),
      l.wakeMode,
      `${num(l.pipeOffsetMs, 3)} ± ${num(l.pipeBoundMs, 3)}`,
      verdict(l.p50 <= 1 && l.missed === 0, "p50 ≤ 1 ms"),
    ]),
  ));
  const least = runtimeKey() === "bun" ? 1_000_000 : 500_000;
  const replay = rate(SUB, "p50");
  console.log(
    `\nReplay through subscribe(): ${count(replay)} events/s (median): ` +
      verdict(replay >= least, `≥ ${count(least)} on ${runtimeKey()}`),
  );
}

async function main(): Promise<void> {
  cleanUpOnExit();
  try {
    const skip = await honkerSkipReason(freshPath());
    const note = skip
      ? `; honker rows skipped: ${skip}`
      : `; honker ${honkerExtVersion()} extension in node:sqlite`;
    console.log(`stream_bench on ${runtimeKey()}, driver ${driverName}${note}`);
    registerPublish(!skip);
    await registerReplay(!skip);
    const { benchmarks } = await run({ throw: true });
    const stats: Stats = new Map(benchmarks.map((trial) => {
      const { avg = NaN, p50 = NaN } = trial.runs[0]?.stats ?? {};
      return [trial.alias, { avg, p50 }];
    }));
    const live: Latency[] = [];
    for (const kind of ["stream", "notify"] as const) {
      live.push(
        await liveLatency(kind, freshPath(), LIVE_EVENTS, LIVE_GAP_MIN_MS, LIVE_GAP_MAX_MS),
      );
    }
    report(stats, live, note);
  } finally {
    cleanUp();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
