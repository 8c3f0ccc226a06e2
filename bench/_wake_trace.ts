/**
 * Where a wake's time goes: runs the Node writer against `_wake_trace_waiter.ts` and splits each
 * commit's latency into event arrival, probes until one sees the commit, and the rest (waker,
 * promise resolution, iterator), and says which path caught it (first probe on the event, the
 * setImmediate re-check, a timed re-check, the backstop). Also measures idle-CPU floors.
 *
 * ```sh
 * node_modules/.bin/node --no-warnings bench/_wake_trace.ts --runtime=bun --mode=fs
 * node_modules/.bin/node --no-warnings bench/_wake_trace.ts --runtime=deno --mode=idle
 * node_modules/.bin/node --no-warnings bench/_wake_trace.ts --runtime=bun --mode=work --show=50
 * ```
 *
 * Modes: `fs`, `poll`, `work` (enqueue → handler, default wake), `work-ffi` (the same on Bun's
 * or Deno's FFI adapter to the system libsqlite3), `idle` (CPU floors). `--verbose` prints the timeline of every commit woken over 5 ms late,
 * `--show=ID` that of one commit; `--commits=N` (300); `--gaps=MIN,MAX` the writer's gaps in
 * ms (2,20; `--gaps=1,1` is about 1,000 commits/s, a loaded worker); `--sql` a per-statement
 * summary of the waiter's connection (count and time per commit).
 *
 * @module
 */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { Child, cleanUp, cleanUpOnExit, removeTempDir, tempDir } from "./_wake_child.ts";
import type { Runtime } from "./_wake_child.ts";
import { sleep } from "./_wake_common.ts";
import { percentile } from "./_wake_report.ts";

type Pair = [number, number];
type Call = [number, number, string, string];

const value = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const runtime = (value("runtime") ?? "node") as Runtime;
const mode = value("mode") ?? "fs";
const commits = Number(value("commits") ?? 300);

async function session(waiterMode: string, run: boolean): Promise<Record<string, unknown>> {
  const dir = tempDir(mkdtempSync(join(tmpdir(), "honker-ts-wake-trace-")));
  const path = join(dir, "wake.db");
  const writer = new Child("writer", "node", "bench/_wake_writer.ts", [
    path,
    String(commits),
    "42",
    ...(value("gaps") ?? "2,20").split(","),
  ]);
  let waiter: Child | undefined;
  try {
    await writer.expect(["ready"], 30_000);
    waiter = new Child("trace waiter", runtime, "bench/_wake_trace_waiter.ts", [path, waiterMode]);
    await waiter.expect(["ready"], 30_000);
    waiter.send("listen");
    await sleep(1200);
    let committed: Pair[] = [];
    if (run) {
      writer.send("run");
      committed = (await writer.expect(["committed"], 120_000)).committed as Pair[];
      await sleep(400);
    }
    waiter.send("idle");
    const { idleCpuMsPerS } = await waiter.expect(["idleCpuMsPerS"], 20_000);
    waiter.send("stop");
    const got = await waiter.expect(["wakes"], 30_000);
    writer.send("exit");
    return { ...got, committed, idleCpuMsPerS };
  } finally {
    writer.kill();
    waiter?.kill();
    await Promise.all([writer.exited, waiter?.exited]);
    removeTempDir(dir);
  }
}

function stats(label: string, xs: number[]): string {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const f = (p: number) => percentile(s, p).toFixed(3);
  return `${label.padEnd(44)} n=${String(s.length).padStart(4)}  p50 ${f(50)}  p90 ${f(90)}  ` +
    `p99 ${f(99)}  max ${(s.at(-1) ?? NaN).toFixed(3)}`;
}

/** Per commit: its wake, the first raw event near it, and the probes in between. */
function analyse(r: Record<string, unknown>): void {
  const committed = r.committed as Pair[];
  const wakes = (r.wakes as Array<[number, number, number]>).sort((a, b) => a[0] - b[0]);
  const events = (r.events as Array<[number, string]>).filter(([, f]) => f.endsWith("-wal"));
  const probes = (r.calls as Call[]).filter((c) => c[2].includes("data_version"));
  const work = mode.startsWith("work");
  const started = new Map(wakes.map(([at, id]) => [id, at]));
  const cols: Record<string, number[]> = {
    total: [],
    eventArrival: [],
    eventToProbe: [],
    runQueueWait: [],
    probeDuration: [],
    probeToWake: [],
    probeToPrecheck: [],
    precheck: [],
    precheckToClaim: [],
    claim: [],
    claimToHandler: [],
    pathSql: [],
    pathJs: [],
    pathStatements: [],
  };
  /** Durations of each statement between the probe that saw a commit and the handler. */
  const bySql: Record<string, number[]> = {};
  const calls = r.calls as Call[];
  const paths: Record<string, number> = {};
  const slow: string[] = [];
  let w = 0;
  committed.forEach(([id, at], i) => {
    let wake: number | undefined;
    if (work) wake = started.get(id);
    else {
      while (w < wakes.length && wakes[w][1] < id) w++;
      wake = wakes[w]?.[0];
    }
    if (wake === undefined) return void (paths["never woken"] = (paths["never woken"] ?? 0) + 1);
    const from = i > 0 ? Math.max(committed[i - 1][1], at - 1.5) : at - 1.5;
    const event = events.find(([t]) => t > from && t <= wake)?.[0];
    // Run-queue wait between the previous wake and this one: the thread sleeps in between, so
    // this is (nearly all) the time this wake-up waited for a CPU.
    const wakeRow = work ? wakes.find(([, j]) => j === id) : wakes[w];
    const prevWake = [...wakes].reverse().find(([t]) => t < (event ?? at) && t > from - 50);
    const queued = wakeRow && prevWake ? wakeRow[2] - prevWake[2] : NaN;
    cols.runQueueWait.push(queued);
    const before = probes.filter(([s, e]) => s >= (event ?? from) && e <= wake);
    // Which probe (counting from the event) first saw the new data_version.
    let seenAt = -1;
    for (let k = 0; k < before.length; k++) {
      const prev = k === 0 ? probes[probes.indexOf(before[0]) - 1]?.[3] : before[k - 1][3];
      if (before[k][3] !== prev) {
        seenAt = k;
        break;
      }
    }
    const probe = seenAt >= 0 ? before[seenAt] : undefined;
    const path = event === undefined
      ? "no event in window (backstop/other commit)"
      : seenAt === 0
      ? "1st probe on the event"
      : seenAt === 1
      ? "2nd probe (setImmediate re-check)"
      : seenAt > 1
      ? `probe #${seenAt + 1} (timed re-check)`
      : "no statement: the WAL index header answered";
    paths[path] = (paths[path] ?? 0) + 1;
    cols.total.push(wake - at);
    if (event !== undefined) cols.eventArrival.push(event - at);
    if (event !== undefined && probe) cols.eventToProbe.push(probe[0] - event);
    if (probe) cols.probeDuration.push(probe[1] - probe[0]);
    if (probe) cols.probeToWake.push(wake - probe[1]);
    // Where the confirmation ends: the statement that saw the commit, or (the WAL index header
    // answered without one) the event itself.
    const confirmed = probe?.[1] ?? event;
    if (work && confirmed !== undefined) {
      // The claim's statements between the confirmation and the handler.
      const after = calls.filter(([s, e]) => s >= confirmed && e <= wake);
      const sqlMs = after.reduce((sum, [s0, e0]) => sum + (e0 - s0), 0);
      cols.pathSql.push(sqlMs);
      cols.pathJs.push(wake - confirmed - sqlMs);
      cols.pathStatements.push(after.length);
      for (const [s0, e0, q] of after) (bySql[q] ??= []).push(e0 - s0);
      const pre = after.find(([, , q]) => q.includes("claimable"));
      const claim = after.find(([, , q]) => q.includes("UPDATE"));
      if (pre && claim) {
        cols.probeToPrecheck.push(pre[0] - confirmed);
        cols.precheck.push(pre[1] - pre[0]);
        cols.precheckToClaim.push(claim[0] - pre[1]);
        cols.claim.push(claim[1] - claim[0]);
        cols.claimToHandler.push(wake - claim[1]);
      }
    }
    if (wake - at > 2 && slow.length < 12) {
      const rel = (t: number) => (t - at).toFixed(2);
      slow.push(
        `  id ${id}: wake +${rel(wake)}  run-queue wait ${queued.toFixed(2)}  events ${
          events.filter(([t]) => t > from && t <= wake + 0.01).map(([t]) => `+${rel(t)}`).join(" ")
        }  probes ${before.map(([s, , , v]) => `+${rel(s)}(${v})`).join(" ")}`,
      );
    }
  });
  console.log(stats("commit returned → wake/handler (total)", cols.total));
  console.log(stats("commit returned → first -wal event", cols.eventArrival));
  console.log(stats("  run-queue wait since previous wake (schedstat)", cols.runQueueWait));
  console.log(stats("event → start of the probe that saw it", cols.eventToProbe));
  console.log(stats("probe duration (SQL)", cols.probeDuration));
  console.log(stats(`probe end → ${work ? "handler start" : "updates() body"}`, cols.probeToWake));
  console.log("paths:", JSON.stringify(paths));
  console.log(`raw -wal events per commit: ${(events.length / committed.length).toFixed(2)}`);
  if (work) {
    // "confirmed": the end of the statement that saw the commit, or the event when the WAL
    // index header answered without one.
    console.log(stats("  confirmed → handler: SQL", cols.pathSql));
    console.log(stats("  confirmed → handler: the rest (JS, scheduling)", cols.pathJs));
    console.log(stats("  confirmed → handler: statements", cols.pathStatements));
    for (const [q, ms] of Object.entries(bySql)) console.log(stats(`    ${q}`, ms));
    console.log(stats("  confirmed → pre-check start", cols.probeToPrecheck));
    console.log(stats("  pre-check (SQL)", cols.precheck));
    console.log(stats("  pre-check end → claim start", cols.precheckToClaim));
    console.log(stats("  claim UPDATE (SQL)", cols.claim));
    console.log(stats("  claim end → handler start", cols.claimToHandler));
  }
  if (process.argv.includes("--sql")) sqlSummary(calls, committed.length);
  if (slow.length) console.log(`slowest (first 12 over 2 ms):\n${slow.join("\n")}`);
  if (process.argv.includes("--verbose") || value("show")) {
    timelines(committed, wakes, events, r.calls as Call[]);
  }
}

/** Per statement (its first 40 characters): count and time per commit, busiest first. */
function sqlSummary(calls: Call[], commitCount: number): void {
  const by = new Map<string, [number, number]>();
  for (const [start, end, sql] of calls) {
    const row = by.get(sql) ?? [0, 0];
    row[0]++;
    row[1] += end - start;
    by.set(sql, row);
  }
  const rows = [...by].sort((a, b) => b[1][1] - a[1][1]);
  const total = rows.reduce((n, [, [, ms]]) => n + ms, 0);
  console.log(`SQL on the waiter's connection: ${(total / commitCount).toFixed(3)} ms per commit`);
  for (const [sql, [count, ms]] of rows.slice(0, 12)) {
    console.log(
      `  ${sql.padEnd(42)} ${(count / commitCount).toFixed(2)}/commit  ` +
        `${(ms / count).toFixed(3)} ms each  ${(ms / commitCount).toFixed(3)} ms/commit`,
    );
  }
}

/** Everything the waiter saw from 10 ms before to 1 ms after each commit woken over 5 ms late. */
function timelines(
  committed: Pair[],
  wakes: Array<[number, number, number]>,
  events: Array<[number, string]>,
  calls: Call[],
): void {
  let w = 0;
  for (const [id, at] of committed) {
    while (w < wakes.length && wakes[w][1] < id) w++;
    const wake = wakes[w]?.[0] ?? at + 300;
    const shown = Number(value("show") ?? NaN);
    if (Number.isNaN(shown) ? wake - at <= 5 : id !== shown) continue;
    const rel = (t: number) => `${t - at >= 0 ? "+" : ""}${(t - at).toFixed(2)}`;
    const inWindow = (t: number) => t > at - 10 && t < wake + 1;
    const lines: Array<[number, string]> = [
      ...committed.filter(([, t]) => inWindow(t)).map((
        [i, t],
      ): [number, string] => [t, `commit ${i}`]),
      ...wakes.filter(([t]) => inWindow(t)).map(([t, m, q]): [number, string] => [
        t,
        `WAKE max ${m} (run-queue total ${q.toFixed(2)})`,
      ]),
      ...events.filter(([t]) => inWindow(t)).map(([t, f]): [number, string] => [t, `event ${f}`]),
      ...calls.filter(([t]) => inWindow(t)).map(([s, e, q, v]): [number, string] => [
        s,
        `sql ${(e - s).toFixed(3)} ms ${q} ${v}`,
      ]),
    ];
    lines.sort((a, b) => a[0] - b[0]);
    console.log(
      `\ncommit ${id}:\n${lines.map(([t, x]) => `  ${rel(t).padStart(8)} ${x}`).join("\n")}`,
    );
  }
}

async function main(): Promise<void> {
  cleanUpOnExit();
  if (mode === "idle") {
    for (const m of ["bare", "timers", "stat", runtime === "deno" ? "poll" : "fs"]) {
      const r = await session(m, false);
      console.log(`${runtime} idle ${m.padEnd(7)} ${(r.idleCpuMsPerS as number).toFixed(2)} ms/s`);
    }
    return;
  }
  const r = await session(mode, true);
  console.log(
    `${runtime} ${mode} (wakeMode ${r.wakeMode}), ${commits} commits, idle CPU ` +
      `${(r.idleCpuMsPerS as number).toFixed(2)} ms/s`,
  );
  analyse(r);
}

try {
  await main();
} finally {
  cleanUp();
}
