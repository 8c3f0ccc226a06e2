/**
 * An instrumented waiter for `_wake_trace.ts`: like `_wake_waiter.ts`, but it also records every
 * raw `fs.watch` event on the database's folder and every statement the Database's connection
 * runs (the change probe, claims, acks), each with its start and end time, so a wake can be
 * split into: event arrival, probes until one sees the commit, and promise resolution.
 *
 * ```sh
 * <runtime> bench/_wake_trace_waiter.ts <db> <fs|poll|work|work-ffi|bare|timers|stat>
 * ```
 *
 * `bare`, `timers` and `stat` open nothing: they are idle-CPU floors (a process waiting on
 * stdin; plus timers at the fs source's cadences; plus the identity stat() those timers make).
 *
 * @module
 */

import { readFileSync, statSync, watch } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { open } from "../mod.ts";
import { Database } from "../core/database.ts";
import { openDriver } from "../adapters/auto.ts";
import type { DriverName } from "../adapters/auto.ts";
import { startWatcher } from "../wake/watcher.ts";
import { runtimeKey } from "../tests/_runtime.ts";
import type { SqliteDriver } from "../core/db/driver.ts";
import { startInotifySource } from "../wake/sources/inotify_source.ts";
import type { FsSource } from "../wake/sources/fs_source.ts";
import { cpuMs, onCommands, send, sendAndExit, sleep, wallClock } from "./_wake_common.ts";

const MAX_ID = "SELECT coalesce(max(id), 0) AS id FROM _honker_live";
const [path, mode] = process.argv.slice(2);
const clock = wallClock();
const stop = new AbortController();
let recording = false;
let wakeMode = "";
/** `[at, filename]` per raw fs event. */
const events: Array<[number, string]> = [];
/** `[start, end, sql (first 40 chars), result]` per statement. */
const calls: Array<[number, number, string, string]> = [];
/** `[at, maxId or jobId, runDelayMs]` per wake or handler start. */
const wakes: Array<[number, number, number]> = [];

/**
 * How long this thread has waited on a run queue, runnable but not running, in ms (the second
 * field of schedstat): the share of a late wake that is the scheduler's, not ours. Read after a
 * wake only, so that reading it never delays the watcher's own event handler.
 */
function runDelayMs(): number {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "utf8").split(" ")[1]) / 1e6;
  } catch {
    return NaN;
  }
}

/** Times every statement of `driver` (the probe reads `driver.get` at call time). */
function instrument(driver: SqliteDriver): void {
  for (const method of ["get", "all", "run", "exec", "values"] as const) {
    const original = (driver[method] as (...a: unknown[]) => unknown).bind(driver);
    (driver as unknown as Record<string, unknown>)[method] = (sql: string, ...rest: unknown[]) => {
      const start = clock.now();
      const result = original(sql, ...rest);
      const end = clock.now();
      if (recording) {
        const tag = sql.includes("data_version") && result && typeof result === "object"
          ? String((result as { data_version: unknown }).data_version)
          : "";
        calls.push([start, end, sql, tag]); // Shortened at the end: keep the hot path cheap.
      }
      return result;
    };
  }
}

/**
 * Deno: an inotify source of its own (a second worker thread, like the Database's) whose
 * `onActivity` notes each signal for the database's files as it reaches the main thread, before
 * any probe. Its name is unknown there, so it is recorded as the `-wal` event the analysis reads.
 */
function denoRawEvents(): { close(): void } {
  const source: FsSource = startInotifySource({
    path,
    probeName: ".none",
    probe: { other: () => true, any: () => "none", version: undefined },
    onChange: () => {},
    onDatabaseFileEvent: () => {},
    onActivity: () => {
      if (recording) events.push([clock.now(), `${path}-wal`]);
    },
    onFailed: () => {},
  });
  return { close: () => source.stop() };
}

function ffiDriverName(): DriverName {
  return runtimeKey() === "bun" ? "bun-ffi" : "deno-ffi";
}

/** A Database owning one instrumented connection, with the default watcher, as open() builds. */
async function openInstrumented(driverName: DriverName | undefined): Promise<Database> {
  const driver = await openDriver(path, driverName);
  instrument(driver);
  return new Database(driver, {
    ownsDriver: true,
    startWatcher: (waker, connection) => startWatcher(waker, connection, {}),
  });
}

async function start(): Promise<() => void> {
  if (mode === "bare") return () => {};
  if (mode === "timers" || mode === "stat") {
    const tick = mode === "stat" ? () => statSync(path) : () => {};
    const a = setInterval(tick, 100);
    const b = setInterval(() => {}, 250);
    return () => (clearInterval(a), clearInterval(b));
  }
  // Never fs.watch on Deno: its watcher opens and closes the files it reports (honker issue
  // #80). There a second inotify source of our own notes when a signal reaches the main thread.
  const raw = mode === "poll"
    ? undefined
    : runtimeKey() === "deno"
    ? denoRawEvents()
    : watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (recording) events.push([clock.now(), String(filename)]);
    });
  // Work modes build the Database as open(path) does, owning a connection instrumented before
  // anything holds its methods (instrumenting db.driver afterwards missed the background calls).
  const db = mode.startsWith("work")
    ? await openInstrumented(mode === "work-ffi" ? ffiDriverName() : undefined)
    : await open(path, { wake: mode as "fs" | "poll" });
  if (!mode.startsWith("work")) instrument(db.driver);
  if (mode.startsWith("work")) {
    void db.queue<{ n: number }>("wake-bench").work((job) => {
      const at = clock.now();
      if (recording) wakes.push([at, job.id, runDelayMs()]);
    }, { idlePollMs: null, workerId: "wake-trace", signal: stop.signal });
  } else {
    void (async () => {
      for await (const _ of db.updates({ signal: stop.signal })) {
        const at = clock.now();
        const row = db.driver.get<{ id: number }>(MAX_ID);
        if (recording) wakes.push([at, Number(row?.id ?? 0), runDelayMs()]);
      }
    })();
  }
  return () => {
    raw?.close();
    wakeMode = db.wakeSource;
    db.close();
  };
}

const close = await start();
onCommands((command) => {
  if (command === "ping") send({ pong: clock.now() });
  else if (command === "listen") recording = true;
  else if (command === "idle") {
    void (async () => {
      const wall = performance.now();
      const cpu = cpuMs();
      await sleep(3000);
      send({ idleCpuMsPerS: ((cpuMs() - cpu) * 1000) / (performance.now() - wall) });
    })();
  } else if (command === "stop") {
    recording = false;
    stop.abort();
    close();
    for (const call of calls) call[2] = call[2].replace(/\s+/g, " ").slice(0, 40);
    sendAndExit({ wakes, events, calls, wakeMode });
  }
});
send({ ready: true });
