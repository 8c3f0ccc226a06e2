/**
 * The demo's live screen: a frame redrawn in place on a terminal, or one plain table row a
 * second when stdout is a pipe or a file.
 *
 * @module
 */

import process from "node:process";
import type { Monitor, Snapshot } from "./_monitor.ts";
import type { RoleProcess } from "./_procs.ts";
import { AUDIT_CONSUMER, HEARTBEAT_SCHEDULE, ORDERS_TOPIC, SHIPMENTS_QUEUE } from "./_role.ts";

/** Everything a frame shows. */
export interface ViewState {
  phase: "running" | "draining" | "stopping";
  elapsedS: number;
  totalS: number;
  dbPath: string;
  snap: Snapshot;
  monitor: Monitor;
  workers: RoleProcess[];
  subscriber: RoleProcess;
  producer: RoleProcess;
}

/** ANSI styling, off when NO_COLOR is set or stdout is not a terminal. */
export interface Paint {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  cyan(text: string): string;
}

/** Styling for stdout. */
export function paint(enabled: boolean): Paint {
  const style = (code: number) => (text: string) => enabled ? `\x1b[${code}m${text}\x1b[0m` : text;
  return { bold: style(1), dim: style(2), green: style(32), red: style(31), cyan: style(36) };
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const BAR_WIDTH = 20;

/** `1.23` for milliseconds: two decimals below 10, one below 100, none above. */
export function ms(value: number): string {
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}

function bar(share: number): string {
  const full = Math.round(Math.max(0, Math.min(1, share)) * BAR_WIDTH);
  return "█".repeat(full) + "░".repeat(BAR_WIDTH - full);
}

function nameOf(owner: string | null): string {
  return owner === null ? "nobody" : owner.replace(/^scheduler-/, "");
}

/** One line per worker: its share of the jobs and its own wake latencies. */
function workerLines(s: ViewState, p: Paint, label: (text: string) => string): string[] {
  return s.workers.map((worker, i) => {
    const count = s.snap.byWorker.get(worker.name) ?? 0;
    const share = s.snap.shipped > 0 ? count / s.snap.shipped : 0;
    const wake = String(worker.readyInfo?.wake ?? "?");
    const l = s.monitor.latency(worker.name);
    return ` ${i === 0 ? label("workers") : " ".repeat(11)}${worker.runtime.padEnd(6)}` +
      `${wake.padEnd(5)}${p.green(bar(share))}${String(count).padStart(7)}` +
      `   p50 ${ms(l.p50).padStart(5)}  p99 ${ms(l.p99)} ms`;
  });
}

/** The lines of one frame. */
export function frameLines(s: ViewState, p: Paint): string[] {
  const { snap } = s;
  const label = (text: string) => p.bold(text.padEnd(11));
  const all = s.monitor.latency();
  const nextS = Math.max(0, snap.nextFireAt - snap.atMs / 1000);
  return [
    `${p.bold(" honker-ts demo")} · one SQLite file, five processes, three runtimes` +
    `  ${p.cyan(s.phase.padStart(8))}`,
    p.dim(` ${s.elapsedS.toFixed(1).padStart(4)} of ${s.totalS} s · ${s.dbPath}`),
    "",
    ` ${label("producer")}${s.producer.runtime.padEnd(6)}order + job + event, one transaction ` +
    `${String(snap.orders).padStart(7)} orders`,
    ` ${label("queue")}${SHIPMENTS_QUEUE}  depth ${String(snap.depth).padStart(4)}` +
    `  in flight ${snap.inFlight}  shipped ${String(snap.shipped).padStart(6)}` +
    `  ${p.bold(snap.perS.toFixed(0).padStart(5))}/s`,
    ...workerLines(s, p, label),
    ` ${label("wake")}enqueue → handler start   ` +
    `p50 ${p.bold(ms(all.p50))} ms  p99 ${p.bold(ms(all.p99))} ms  max ${ms(all.max)} ms`,
    ` ${label("stream")}${ORDERS_TOPIC} → "${AUDIT_CONSUMER}" (${s.subscriber.runtime})  ` +
    `offset ${snap.consumerOffset} of ${snap.streamHead}  lag ${p.bold(String(snap.lag))}`,
    ` ${label("scheduler")}@every ${HEARTBEAT_SCHEDULE.everyS}s, led by ${nameOf(snap.leader)}` +
    `  fires ${p.bold(String(snap.fires))}` +
    (snap.nextFireAt > 0 ? `  next in ${nextS.toFixed(1)} s` : ""),
    "",
    p.dim(" wake: enqueue (producer) → handler start (worker), on the system clock, which"),
    p.dim(" each process reads with microseconds by aligning performance.now() to it"),
    p.dim(" Ctrl-C stops early"),
  ];
}

/** Redraws a frame in place on a terminal. */
export class TtyView {
  #drawn = 0;
  #paint: Paint;

  constructor(colour: boolean) {
    this.#paint = paint(colour);
    process.stdout.write("\x1b[?25l"); // Hide the cursor while redrawing.
  }

  /** Draws the frame over the previous one. */
  render(state: ViewState): void {
    const width = Math.max(20, (process.stdout.columns ?? 80) - 1);
    const lines = frameLines(state, this.#paint).map((line) => {
      const visible = line.replace(ANSI, "");
      // A wrapped line would break the redraw: drop colour and cut it instead.
      return visible.length > width ? visible.slice(0, width) : line;
    });
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : "";
    process.stdout.write(up + lines.map((line) => `\x1b[2K${line}\n`).join(""));
    this.#drawn = lines.length;
  }

  /** Leaves the last frame on screen and restores the cursor (clearing a typed ^C below it). */
  finish(): void {
    process.stdout.write("\r\x1b[2K\x1b[?25h");
  }
}

/** One table row a second, for pipes and log files. */
export class PlainView {
  #nextRowS = 1;
  #workers: string[];

  constructor(workers: RoleProcess[]) {
    this.#workers = workers.map((w) => w.name);
    const names = this.#workers.map((w) => w.padStart(7)).join("");
    console.log(
      `    t  orders  depth    /s${names}  p50 ms  p99 ms  offset    lag  fires`,
    );
  }

  /** Prints a row when another whole second has passed. */
  render(state: ViewState): void {
    if (state.phase !== "running" || state.elapsedS < this.#nextRowS) return;
    this.#nextRowS = Math.floor(state.elapsedS) + 1;
    const { snap } = state;
    const all = state.monitor.latency();
    const cells = [
      `${Math.floor(state.elapsedS)}s`.padStart(5),
      String(snap.orders).padStart(8),
      String(snap.depth).padStart(7),
      snap.perS.toFixed(0).padStart(6),
      ...this.#workers.map((w) => String(snap.byWorker.get(w) ?? 0).padStart(7)),
      ms(all.p50).padStart(8),
      ms(all.p99).padStart(8),
      String(snap.consumerOffset).padStart(8),
      String(snap.lag).padStart(7),
      String(snap.fires).padStart(7),
    ];
    console.log(cells.join(""));
  }

  /** Nothing to restore on a pipe. */
  finish(): void {}
}
