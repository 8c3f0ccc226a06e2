/**
 * The wake benchmark's waiting process, run on the runtime under test.
 *
 * ```sh
 * <runtime> bench/_wake_waiter.ts <db> <fs|poll|ext|work|work-ffi|bullmq> [redisPort]
 * ```
 *
 * - `fs`, `poll`: `db.updates()` on a Database opened with that wake mode; on each wake it notes
 *   the time, then reads `max(id)` so the wake can be matched to the commits it saw.
 * - `ext`: honker's own extension watcher (`honker_update_watcher_wait`, 50 ms at a time, which
 *   blocks the event loop as honker's Bun binding does) on a node:sqlite connection.
 * - `work`: `queue.work()` with the default wake mode; notes when each handler starts.
 * - `work-ffi`: the same on the runtime's FFI adapter to the system libsqlite3 (`deno-ffi` on
 *   Deno, `bun-ffi` on Bun; Node has none).
 * - `bullmq`: a BullMQ `Worker` (concurrency 1) on the Redis at `redisPort`; notes when each
 *   processor starts.
 *
 * Commands on stdin: `ping`, `listen` (start recording), `idle` (measure CPU over 10 s),
 * `stop` (answer with what was recorded, then exit).
 *
 * @module
 */

import process from "node:process";
import { setImmediate } from "node:timers";
import { Worker as BullWorker } from "bullmq";
import { open } from "../mod.ts";
import { BULLMQ_QUEUE } from "./_wake_bullmq.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import { openExtWatcher } from "./_wake_ext.ts";
import { percentile } from "./_wake_report.ts";
import type { ExtWatcher } from "./_wake_ext.ts";
import {
  cpuMs,
  measureOffset,
  onCommands,
  send,
  sendAndExit,
  sleep,
  wallClock,
} from "./_wake_common.ts";

/**
 * How the idle waiter's CPU is measured: ten 1 s samples, each holding one of the idle
 * backstop's polls. Their mean is the figure; their median is a typical idle second, which a
 * one-off runtime burst in the window (V8's memory-reducer GC after the commits stop, 20–30 ms)
 * does not move.
 */
const IDLE_SAMPLES = 10;
const IDLE_SAMPLE_MS = 1000;
const MAX_ID = "SELECT coalesce(max(id), 0) AS id FROM _honker_live";

const [path, mode, redisPort] = process.argv.slice(2);
const FFI_DRIVER: Record<string, "deno-ffi" | "bun-ffi" | undefined> = {
  deno: "deno-ffi",
  bun: "bun-ffi",
};
const clock = wallClock();
const startOffset = clock.now() - performance.now();
const stop = new AbortController();
/** `[wokeAt, maxIdSeen]` per wake (`[startedAt, jobId]` per handler in `work` mode). */
const wakes: Array<[number, number]> = [];
let recording = false;
let done: Promise<unknown> = Promise.resolve();
let wakeMode = mode;
let startListening = () => {};

async function listenUpdates(db: Awaited<ReturnType<typeof open>>): Promise<void> {
  for await (const _ of db.updates({ signal: stop.signal })) {
    const at = clock.now();
    const row = db.driver.get<{ id: number }>(MAX_ID);
    if (recording) wakes.push([at, Number(row?.id ?? 0)]);
  }
}

async function listenExt(ext: ExtWatcher): Promise<void> {
  while (!stop.signal.aborted) {
    const result = ext.wait(50);
    if (result === 1) {
      const at = clock.now();
      if (recording) wakes.push([at, ext.maxId()]);
    } else if (result < 0) throw new Error(`honker_update_watcher_wait returned ${result}`);
    // Let stdin commands and timers run between blocking waits, as a real app would need to.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** How the waiter opens the database in the honker-ts modes. */
function openOptions(mode: string): Parameters<typeof open>[1] {
  if (mode === "work") return {};
  if (mode !== "work-ffi") return { wake: mode as "fs" | "poll" };
  const driver = FFI_DRIVER[runtimeKey()];
  if (!driver) throw new Error(`${runtimeKey()} has no FFI adapter to the system libsqlite3`);
  return { driver };
}

async function start(): Promise<() => void> {
  // The runtime's own idle floor: honker-ts imported (above), nothing opened.
  if (mode === "bare") return () => {};
  if (mode === "ext") {
    const ext = await openExtWatcher(path);
    // The blocking waits would delay the clock pings, so they start with `listen`.
    startListening = () => {
      while (ext.wait(0) === 1); // Drop wakes queued before recording starts.
      done = listenExt(ext);
    };
    return () => ext.close();
  }
  if (mode === "bullmq") {
    const connection = { host: "127.0.0.1", port: Number(redisPort) };
    const worker = new BullWorker(BULLMQ_QUEUE, (job) => {
      const at = clock.now();
      if (recording) wakes.push([at, Number(job.id)]);
      return Promise.resolve();
    }, { connection, concurrency: 1 });
    await worker.waitUntilReady();
    done = new Promise((resolve) => {
      stop.signal.addEventListener("abort", () => void worker.close().finally(() => resolve(0)));
    });
    wakeMode = "redis";
    return () => {};
  }
  const db = await open(path, openOptions(mode));
  if (mode.startsWith("work")) {
    const queue = db.queue<{ n: number }>("wake-bench");
    done = queue.work((job) => {
      const at = clock.now();
      if (recording) wakes.push([at, job.id]);
    }, { idlePollMs: null, workerId: "wake-bench", signal: stop.signal });
  } else {
    done = listenUpdates(db);
  }
  return () => {
    wakeMode = db.wakeSource;
    db.close();
  };
}

async function idle(): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    const wallStart = performance.now();
    const cpuStart = cpuMs();
    await sleep(IDLE_SAMPLE_MS);
    samples.push(((cpuMs() - cpuStart) * 1000) / (performance.now() - wallStart));
  }
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  send({ idleCpuMsPerS: mean, idleMedianMsPerS: percentile(samples.sort((a, b) => a - b), 50) });
}

function serve(close: () => void): void {
  onCommands((command) => {
    if (command === "ping") send({ pong: clock.now() });
    else if (command === "listen") {
      recording = true;
      startListening();
    } else if (command === "idle") void idle();
    else if (command === "stop") {
      recording = false;
      const driftMs = measureOffset().offsetMs - startOffset;
      stop.abort();
      void done.finally(() => {
        close();
        sendAndExit({ wakes, driftMs, wakeMode });
      });
    }
  });
  send({
    ready: true,
    runtime: runtimeKey(),
    mode,
    uncertaintyMs: clock.uncertaintyMs,
    rawSkewMs: clock.rawSkewMs,
  });
}

try {
  serve(await start());
} catch (error) {
  // Not measurable here (the extension does not load, fs events are refused on Deno, …).
  sendAndExit({ skip: (error as Error).message });
}
