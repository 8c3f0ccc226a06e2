/**
 * One process of the peers benchmark: opens one system on its place and plays one role,
 * answering in JSON lines on stdout and taking commands on stdin.
 *
 * ```sh
 * <runtime> bench/_peers_child.ts <system> <role> '<json options>'
 * ```
 *
 * Roles (options besides the place):
 * - `enqueue {n, bulk}`: `ready`; on `go` adds n jobs, `bulk` per call (1: one per call), and
 *   answers `{ms}`.
 * - `drain {n, concurrency, warmup}`: adds n + warmup jobs untimed, then `ready`; on `go` starts
 *   the workers, starts the clock once `warmup` jobs were handled, and answers `{ms, handled}`
 *   (timed jobs only) once all are handled and the workers have stopped.
 * - `fill {n}`: adds n jobs and answers `{filled}`.
 * - `work {concurrency, prefetch}`: `ready`; on `go` starts the workers, then reports `{handled}` as jobs
 *   come (once per event-loop turn, and every 100 jobs within one); `mark` starts the CPU
 *   window; `stop` stops the workers and answers
 *   `{handled, final, latencies, statements, cpuMs, wallMs, rssMb}`.
 *   Latencies are handler start minus the producer's stamp, in ms, warm-up jobs left out, on
 *   each process's own clock: the parent corrects them by the two clocks' offset, which it
 *   measures with `ping` (answered `{pong}`, bench/_pipe_clock.ts) before `go`.
 * - `produce {count, gapMs | ratePerS, warmup}`: `ready`; on `go` adds `count` jobs stamped
 *   with the wall clock, one per `gapMs` or at `ratePerS` (catching up when timers run late),
 *   the first `warmup` marked as warm-up, and answers `{sent}`; `stop` ends it early; `ping`
 *   as above.
 *
 * @module
 */

import process from "node:process";
import { setImmediate } from "node:timers";
import { cpuMs, onCommands, send, sendAndExit, sleep, wallClock } from "./_wake_common.ts";
import { openSystem, PAYLOAD } from "./_peers_system.ts";
import type { Payload, PeerSystem, SystemId, SystemPlace } from "./_peers_system.ts";

/** What a role is told: job counts, concurrency, pacing. */
export interface RoleOptions {
  n?: number;
  bulk?: number;
  concurrency?: number;
  /** honker-ts's `prefetch` for a `work` role (no peer has one). */
  prefetch?: number;
  count?: number;
  gapMs?: number;
  ratePerS?: number;
  warmup?: number;
}

/** Jobs per call when filling a queue before a drain. */
const FILL_BULK = 1000;
/** A `work` child reports its count at least this often, even within one event-loop turn. */
const REPORT_EVERY = 100;

const [systemArg, role, json] = process.argv.slice(2);
const options = JSON.parse(json ?? "{}") as SystemPlace & RoleOptions;
const system: PeerSystem = await openSystem(systemArg as SystemId, options);

async function finish(message: Record<string, unknown>): Promise<void> {
  await system.close();
  sendAndExit(message);
}

/** Adds n unmeasured jobs, `bulk` per call; honker-ts's synchronous calls are not awaited. */
async function addAll(n: number, bulk: number): Promise<void> {
  if (bulk <= 1) {
    for (let i = 0; i < n; i++) {
      const pending = system.add(PAYLOAD);
      if (pending) await pending;
    }
    return;
  }
  const batch: Payload[] = Array(bulk).fill(PAYLOAD);
  for (let i = 0; i < n; i += bulk) {
    const pending = system.addBulk(i + bulk <= n ? batch : batch.slice(0, n - i));
    if (pending) await pending;
  }
}

function enqueue(n: number, bulk: number): void {
  send({ ready: true });
  onCommands(async (command) => {
    if (command !== "go") return;
    const t0 = performance.now();
    await addAll(n, bulk);
    await finish({ ms: performance.now() - t0 });
  });
}

/**
 * Drains `warmup` jobs untimed, then times the next n: the clock starts when the warm-up's last
 * job reaches its handler, with the workers already running, and stops once all n are handled
 * and the workers have stopped.
 */
async function drain(n: number, concurrency: number, warmup: number): Promise<void> {
  await addAll(n + warmup, FILL_BULK);
  let handled = 0;
  let t0 = 0;
  let allHandled = () => {};
  const all = new Promise<void>((resolve) => (allHandled = resolve));
  const work = await system.prepare(concurrency, () => {
    if (++handled === warmup) t0 = performance.now();
    if (handled === n + warmup) allHandled();
  });
  send({ ready: true });
  onCommands(async (command) => {
    if (command !== "go") return;
    t0 = performance.now();
    work.start();
    await all;
    await work.stop();
    await finish({ ms: performance.now() - t0, handled: handled - warmup });
  });
}

async function work(concurrency: number, prefetch?: number): Promise<void> {
  const clock = wallClock();
  const latencies: number[] = [];
  let handled = 0;
  let reporting = false;
  const report = () => {
    reporting = false;
    send({ handled });
  };
  const work = await system.prepare(concurrency, (payload) => {
    handled++;
    if (payload.t > 0 && !payload.w) latencies.push(clock.now() - payload.t);
    // Every REPORT_EVERY jobs at once too: plainjob handles job after job without yielding to
    // the event loop, and the 4-process drain starts its clock from these counts.
    if (handled % REPORT_EVERY === 0) send({ handled });
    else if (!reporting) (reporting = true, setImmediate(report));
  }, { prefetch });
  let [cpu0, wall0] = [cpuMs(), performance.now()];
  const stop = async () => {
    const [cpu, wall] = [cpuMs() - cpu0, performance.now() - wall0];
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    await work.stop();
    const statements = system.statements?.();
    await finish({ handled, final: true, latencies, statements, cpuMs: cpu, wallMs: wall, rssMb });
  };
  send({ ready: true });
  onCommands((command) => {
    if (command === "go") {
      system.resetStatements?.();
      [cpu0, wall0] = [cpuMs(), performance.now()];
      work.start();
    } else if (command === "mark") [cpu0, wall0] = [cpuMs(), performance.now()];
    else if (command === "stop") void stop();
    else if (command === "ping") send({ pong: clock.now() });
  });
}

function produce(count: number, gapMs: number, ratePerS: number, warmup: number): void {
  const clock = wallClock();
  let stopped = false;
  const run = async () => {
    const t0 = performance.now();
    let sent = 0;
    while (sent < count && !stopped) {
      await sleep(gapMs > 0 ? gapMs : 1);
      const due = gapMs > 0
        ? sent + 1
        : Math.min(count, Math.floor(((performance.now() - t0) * ratePerS) / 1000));
      for (; sent < due && !stopped; sent++) {
        const payload: Payload = { ...PAYLOAD, t: clock.now() };
        if (sent < warmup) payload.w = 1;
        const pending = system.add(payload);
        if (pending) await pending;
      }
    }
    await finish({ sent });
  };
  send({ ready: true });
  onCommands((command) => {
    if (command === "go") void run();
    else if (command === "stop") stopped = true;
    else if (command === "ping") send({ pong: clock.now() });
  });
}

const { n = 0, bulk = 1, concurrency = 1, count = 0, gapMs = 0, ratePerS = 0 } = options;
if (role === "enqueue") enqueue(n, bulk);
else if (role === "drain") await drain(n, concurrency, options.warmup ?? 0);
else if (role === "fill") await addAll(n, FILL_BULK).then(() => finish({ filled: n }));
else if (role === "work") await work(concurrency, options.prefetch);
else if (role === "produce") produce(count, gapMs, ratePerS, options.warmup ?? 0);
else throw new TypeError(`Cannot run a peers-benchmark child: unknown role ${role}`);
