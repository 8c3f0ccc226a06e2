/**
 * `watch`: the `stats` view, refreshed on every commit to the file (from any process, through
 * `db.updates()`) and once a second (due times and ages move without commits). On a terminal it
 * redraws the screen; otherwise it prints a line per queue, stream, consumer or schedule whose
 * numbers changed, so that it can be logged or piped.
 *
 * @module
 */

import process from "node:process";
import type { Database } from "../mod.ts";
import { EXIT_OK, note, print, printJsonLine, stopOnSignals } from "./_cli.ts";
import type { Command, Values } from "./_cli.ts";
import { honkerTables, openExisting } from "./_file.ts";
import { clock, isTty, localTime } from "./_format.ts";
import { renderSnapshot, snapshot } from "./stats.ts";
import type { Snapshot } from "./stats.ts";

/** Refresh at least this often, for due times and ages that move without a commit. */
export const REFRESH_MS = 1000;

const CLEAR_SCREEN = "\x1b[H\x1b[2J";

function word(name: string): string {
  return /^[^\s"=]+$/.test(name) ? name : JSON.stringify(name);
}

/** One line per thing watched, keyed by what it is; ages are left out so they do not flap. */
function lines(snap: Snapshot): Map<string, string> {
  const out = new Map<string, string>();
  for (const q of snap.queues) {
    out.set(
      `queue ${word(q.name)}`,
      `pending=${q.pending} scheduled=${q.scheduled} processing=${q.processing} dead=${q.dead}`,
    );
  }
  for (const s of snap.streams) {
    out.set(`stream ${word(s.topic)}`, `last_offset=${s.lastOffset ?? "-"} events=${s.events}`);
    for (const c of s.consumers) {
      out.set(`consumer ${word(s.topic)} ${word(c.name)}`, `offset=${c.offset} lag=${c.lag}`);
    }
  }
  for (const t of snap.schedules) {
    const next = t.enabled ? `next_fire=${JSON.stringify(localTime(t.nextFireAt))}` : "paused";
    out.set(`schedule ${word(t.name)}`, `queue=${word(t.queue)} ${next}`);
  }
  return out;
}

/** The lines that differ from the previous snapshot's (all of them the first time). */
function changedLines(previous: Snapshot | undefined, snap: Snapshot): string[] {
  const before = previous === undefined ? new Map<string, string>() : lines(previous);
  const time = clock(snap.now);
  const changed: string[] = [];
  for (const [what, state] of lines(snap)) {
    if (before.get(what) !== state) changed.push(`${time} ${what} ${state}`);
    before.delete(what);
  }
  for (const what of before.keys()) changed.push(`${time} ${what} removed`);
  return changed;
}

function sameData(a: Snapshot | undefined, b: Snapshot): boolean {
  const data = (s: Snapshot) => JSON.stringify([...lines(s)]);
  return a !== undefined && data(a) === data(b);
}

function tick(ms: number, signal: AbortSignal): Promise<"tick"> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve("tick");
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function renderer(db: Database, file: string, values: Values): () => void {
  const tables = honkerTables(db.driver, file);
  const screen = isTty() && !values.json;
  let previous: Snapshot | undefined;
  return () => {
    const snap = snapshot(db.driver, tables, file);
    if (screen) {
      const title = `honker-ts watch ${file}  ${localTime(snap.now)}  (Ctrl-C to quit)`;
      process.stdout.write(`${CLEAR_SCREEN}${title}\n\n${renderSnapshot(snap)}`);
    } else if (values.json) {
      if (!sameData(previous, snap)) printJsonLine(snap);
    } else {
      for (const line of changedLines(previous, snap)) print(line);
    }
    previous = snap;
  };
}

async function runWatch([file]: string[], values: Values): Promise<number> {
  const db = await openExisting(file);
  const stop = stopOnSignals();
  const updates = db.updates({ signal: stop.signal });
  try {
    const render = renderer(db, file, values);
    render();
    if (!isTty()) note("watch", `watching ${JSON.stringify(file)} (${db.wakeSource} wake-ups)`);
    const never = new Promise<"end">(() => {});
    let next: Promise<"change" | "end"> = updates.next().then((r) => r.done ? "end" : "change");
    while (!stop.signal.aborted) {
      let woke: "change" | "end" | "tick";
      try {
        woke = await Promise.race([next, tick(REFRESH_MS, stop.signal)]);
      } catch (error) {
        // The file was replaced: say so, and keep refreshing on the timer alone.
        note("watch", (error as Error).message);
        next = never;
        continue;
      }
      if (woke === "end") break;
      if (woke === "change") next = updates.next().then((r) => r.done ? "end" : "change");
      if (!stop.signal.aborted) render();
    }
    return EXIT_OK;
  } finally {
    await updates.return?.();
    stop.dispose();
    db.close();
  }
}

/** `honker-ts watch FILE`. */
export const watch: Command = {
  name: "watch",
  summary: "live stats, refreshed on every commit",
  args: "FILE",
  arity: [1, 1],
  description: "The view of `stats`, redrawn whenever any process commits to the file (and each\n" +
    "second), until Ctrl-C or SIGTERM. When stdout is not a terminal it prints instead a\n" +
    "line per queue, stream, consumer or schedule each time its numbers change:\n" +
    "  TIME queue NAME pending=N scheduled=N processing=N dead=N",
  flags: {
    json: {
      type: "boolean",
      help: "--json          print a stats snapshot per change, one per line",
    },
  },
  run: runWatch,
};
