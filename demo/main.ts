/**
 * `npm run demo`: one SQLite file in a temporary folder, five processes on three runtimes.
 *
 * - a producer (Node) commits an order, the job that ships it and an event announcing it, in one
 *   transaction, at a steady rate;
 * - two workers (Deno, Bun) run `queue.work()` and record a shipped row for every job;
 * - a subscriber (Bun) reads the event stream as the durable consumer "audit";
 * - a scheduler (Deno) leads an `@every 2s` schedule with `scheduler.run()`.
 *
 * A live view (redrawn in place on a terminal, a plain row a second otherwise) shows what the
 * file says. Then everything stops in order and the file is checked: every order shipped once,
 * every job ran once, the consumer reached the last event, every boundary fired once, the file
 * is intact. Exits 0 only if all of that holds.
 *
 *   node demo/main.ts [--seconds 15] [--rate 100] [--keep]
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { Monitor } from "./_monitor.ts";
import { missingRuntimes, RoleProcess } from "./_procs.ts";
import { DEMO_TABLES_DDL, HEARTBEAT_SCHEDULE } from "./_role.ts";
import { summaryLines, verify } from "./_summary.ts";
import { paint, PlainView, TtyView } from "./_view.ts";
import type { ViewState } from "./_view.ts";

const FRAME_MS = 200;
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 15_000;

const USAGE = `usage: node demo/main.ts [--seconds N] [--rate N] [--keep]
  --seconds N  how long the producer runs (default 15)
  --rate N     orders per second (default 100)
  --keep       keep the database file afterwards (its path is printed)`;

interface DemoOptions {
  seconds: number;
  rate: number;
  keep: boolean;
}

function parseOptions(): DemoOptions {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "15" },
      rate: { type: "string", default: "100" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  if (values.help || !(seconds > 0) || !(rate > 0 && rate <= 5000)) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  return { seconds, rate, keep: values.keep };
}

/** The five processes. */
interface Cast {
  producer: RoleProcess;
  workers: RoleProcess[];
  subscriber: RoleProcess;
  scheduler: RoleProcess;
  all: RoleProcess[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts everyone but the producer, then the producer, then registers the schedule. */
async function startCast(
  db: Database,
  rate: number,
  all: RoleProcess[],
): Promise<Cast & { firstBoundaryS: number }> {
  const path = db.path;
  const workers = [
    new RoleProcess("worker", "deno", "deno", path),
    new RoleProcess("worker", "bun", "bun", path),
  ];
  const subscriber = new RoleProcess("subscriber", "bun", "bun", path);
  const scheduler = new RoleProcess("scheduler", "deno", "deno", path);
  all.push(...workers, subscriber, scheduler);
  const cast = { workers, subscriber, scheduler, all } as Cast & { firstBoundaryS: number };
  try {
    await Promise.all(all.map((p) => p.ready(READY_TIMEOUT_MS)));
    cast.producer = new RoleProcess("producer", "node", "node", path, [String(rate)]);
    all.unshift(cast.producer);
    await cast.producer.ready(READY_TIMEOUT_MS);
    // Registered as the producer starts, so that the run's length decides how many boundaries.
    const { name, queue, everyS } = HEARTBEAT_SCHEDULE;
    db.scheduler().add({ name, queue, schedule: `@every ${everyS}s` });
    cast.firstBoundaryS = db.scheduler().soonest();
  } catch (error) {
    for (const p of all) p.kill();
    throw error;
  }
  return cast;
}

function describeCast(cast: Cast, rate: number): string[] {
  const what: Record<string, string> = {
    producer: `commits order+job+event, ${rate}/s`,
    worker: `queue.work() on "shipments"`,
    subscriber: `consumer "audit" of "orders"`,
    scheduler: `scheduler.run(), @every ${HEARTBEAT_SCHEDULE.everyS}s`,
  };
  const row = (cells: string[]) =>
    cells.map((cell, i) => cell.padEnd([12, 9, 9, 6, 0][i])).join("").trimEnd();
  return [
    "  processes  " + row(["role", "runtime", "pid", "wake", "what it does"]),
    ...cast.all.map((p) =>
      " ".repeat(13) +
      row([p.role, p.runtime, String(p.readyInfo?.pid), String(p.readyInfo?.wake), what[p.role]])
    ),
  ];
}

/**
 * Ctrl-C while the demo runs stops it early, still in order and still checked. During start-up,
 * or a second time, it ends every process at once.
 */
function watchInterrupts(
  started: RoleProcess[],
  cleanUp: () => void,
): { requested: boolean; running: boolean } {
  const state = { requested: false, running: false };
  process.on("SIGINT", () => {
    if (state.running && !state.requested) {
      state.requested = true;
      return;
    }
    for (const p of started) p.kill();
    cleanUp();
    process.stdout.write(process.stdout.isTTY ? "\x1b[?25h\n" : "\n");
    process.exit(130);
  });
  return state;
}

/** Redraws until `until()` says stop, at FRAME_MS intervals; returns the last state. */
async function animate(
  view: TtyView | PlainView,
  frame: () => ViewState,
  until: (state: ViewState) => boolean,
): Promise<ViewState> {
  for (;;) {
    const state = frame();
    view.render(state);
    if (until(state)) return state;
    await sleep(FRAME_MS);
  }
}

/** Stops processes and waits for them; kills what does not stop in time. */
async function stopAll(procs: RoleProcess[]): Promise<void> {
  for (const p of procs) p.stop();
  const exited = await Promise.all(procs.map((p) => p.exited(STOP_TIMEOUT_MS)));
  procs.forEach((p, i) => exited[i] || p.kill());
  await Promise.all(procs.map((p) => p.exited(STOP_TIMEOUT_MS)));
}

async function main(): Promise<number> {
  const options = parseOptions();
  const missing = missingRuntimes();
  if (missing.length > 0) {
    console.error(`Cannot run the demo: ${missing.join(", ")} missing from node_modules/.bin`);
    return 1;
  }
  const tty = process.stdout.isTTY === true;
  const p = paint(tty && !process.env.NO_COLOR);
  const dir = mkdtempSync(join(tmpdir(), "honker-demo-"));
  const db = await open(join(dir, "app.db"));
  const cleanUp = () => {
    db.close();
    if (options.keep) console.log(`The database is kept at ${join(dir, "app.db")}`);
    else rmSync(dir, { recursive: true, force: true });
  };
  const started: RoleProcess[] = [];
  const interrupt = watchInterrupts(started, cleanUp);
  try {
    db.driver.exec(DEMO_TABLES_DDL);
    console.log(p.bold("honker-ts demo: one SQLite file, five processes, three runtimes"));
    console.log(`  file       ${db.path}`);
    console.log("  starting   workers, subscriber and scheduler, then the producer…");
    const cast = await startCast(db, options.rate, started);
    console.log(describeCast(cast, options.rate).join("\n") + "\n");
    interrupt.running = true;
    return await run(db, cast, options, tty, interrupt);
  } finally {
    cleanUp();
  }
}

/** Whether everything the producer did has been handled: jobs, events and due boundaries. */
function drained({ snap }: ViewState): boolean {
  return snap.depth + snap.inFlight === 0 && snap.shipped === snap.orders && snap.lag === 0 &&
    snap.nextFireAt * 1000 > snap.atMs;
}

async function run(
  db: Database,
  cast: Cast & { firstBoundaryS: number },
  options: DemoOptions,
  tty: boolean,
  interrupt: { readonly requested: boolean },
): Promise<number> {
  const monitor = new Monitor(db);
  const view = tty ? new TtyView(!process.env.NO_COLOR) : new PlainView(cast.workers);
  const startMs = Date.now();
  let phase: ViewState["phase"] = "running";
  const frame = (): ViewState => ({
    phase,
    elapsedS: (Date.now() - startMs) / 1000,
    totalS: options.seconds,
    dbPath: db.path,
    snap: monitor.snapshot(),
    monitor,
    ...cast,
  });
  const log = (line: string) => {
    if (!tty) console.log(line);
  };
  const ran = await animate(
    view,
    frame,
    (s) => s.elapsedS >= options.seconds || interrupt.requested,
  );
  log(
    `stopping the producer after ${ran.elapsedS.toFixed(1)} s${
      interrupt.requested ? " (Ctrl-C)" : ""
    }`,
  );
  phase = "draining";
  await stopAll([cast.producer]);
  const drainStartMs = Date.now();
  const last = await animate(
    view,
    frame,
    (s) => drained(s) || Date.now() - drainStartMs > DRAIN_TIMEOUT_MS,
  );
  log(
    `drained in ${((Date.now() - drainStartMs) / 1000).toFixed(1)} s: ` +
      `${last.snap.depth} jobs waiting, stream lag ${last.snap.lag}`,
  );
  log("stopping the workers, the subscriber and the scheduler");
  phase = "stopping";
  await stopAll([...cast.workers, cast.subscriber, cast.scheduler]);
  const final = frame();
  if (tty) view.render(final);
  view.finish();
  // Every boundary due by the last drain snapshot had fired (drained() checks it).
  const record = { db, monitor, final: final.snap, ...cast, caughtUpAtMs: last.snap.atMs };
  const checks = verify(record);
  console.log(summaryLines(record, checks, paint(tty && !process.env.NO_COLOR), tty).join("\n"));
  return checks.every((c) => c.ok) ? 0 : 1;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  return 1;
});
