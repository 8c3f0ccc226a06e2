/**
 * `events`: the job events of one queue (`_honker_ts_job_events`, written by honker-ts for
 * queues with events switched on), read with plain SQL: all of them after `--since`, or with
 * `--follow` also each one as it is committed, by any process, woken by `db.updates()`.
 *
 * @module
 */

import type { SqliteDriver } from "../mod.ts";
import { parseJson } from "../core/db/json.ts";
import { CliError, EXIT_OK, note, offsetArg, print, printJsonLine, stopOnSignals } from "./_cli.ts";
import type { Command, Values } from "./_cli.ts";
import { inspect, openExisting } from "./_file.ts";
import { clock, payloadText } from "./_format.ts";
import { JOB_EVENTS_AFTER, JOB_EVENTS_LAST_ID } from "./_inspect_sql.ts";

/** The table the events live in. */
const EVENTS_TABLE = "_honker_ts_job_events";
/** Events read per page. */
const EVENTS_PAGE = 500;

/** One job event, as `queue.events()` yields it. */
export interface JobEventView {
  id: number;
  queue: string;
  jobId: number;
  type: string;
  data: unknown;
  attempt: number;
  createdAt: number;
}

type Row = Record<string, string | number | null>;

function eventView(row: Row): JobEventView {
  return {
    id: Number(row.id),
    queue: String(row.queue),
    jobId: Number(row.job_id),
    type: String(row.type),
    data: row.data === null ? null : parseJson(String(row.data)),
    attempt: Number(row.attempt),
    createdAt: Number(row.created_at),
  };
}

function eventLine(e: JobEventView): string {
  const data = e.data === null ? "" : `  ${payloadText(e.data)}`;
  return `${clock(e.createdAt)}  #${e.id}  job ${e.jobId}  ${e.type}  attempt ${e.attempt}${data}`;
}

/** Prints every event of `queue` after `since`; returns the last id printed (or `since`). */
function printAfter(driver: SqliteDriver, queue: string, since: number, json: boolean): number {
  for (;;) {
    const rows = driver.all<Row>(JOB_EVENTS_AFTER, [queue, since, EVENTS_PAGE]);
    for (const event of rows.map(eventView)) {
      if (json) printJsonLine(event);
      else print(eventLine(event));
      since = event.id;
    }
    if (rows.length < EVENTS_PAGE) return since;
  }
}

/** Throws CliError when the file has no events table (written before honker-ts had events). */
async function requireEventsTable(file: string, queue: string): Promise<void> {
  const { driver, tables } = await inspect(file);
  driver.close();
  if (!tables.has(EVENTS_TABLE)) {
    throw new CliError(
      `Cannot read the events of queue ${JSON.stringify(queue)}: "${file}" has no job events ` +
        `table (${EVENTS_TABLE}); honker-ts creates it, and records events for a queue once ` +
        "they are switched on",
    );
  }
}

async function runEvents([file, queue]: string[], values: Values): Promise<number> {
  const since = values.since === undefined
    ? undefined
    : offsetArg(String(values.since), "--since", "events");
  const json = values.json === true;
  await requireEventsTable(file, queue);
  if (!values.follow) {
    const { driver } = await inspect(file);
    try {
      printAfter(driver, queue, since ?? 0, json);
    } finally {
      driver.close();
    }
    return EXIT_OK;
  }
  const db = await openExisting(file);
  const stop = stopOnSignals();
  // Made before the first read, so that a commit after that read wakes the loop.
  const updates = db.updates({ signal: stop.signal });
  try {
    let last = since ?? db.driver.get<{ id: number }>(JOB_EVENTS_LAST_ID, [queue])?.id ?? 0;
    note("events", `following the events of queue ${JSON.stringify(queue)} after #${last}`);
    last = printAfter(db.driver, queue, last, json);
    for await (const _ of updates) last = printAfter(db.driver, queue, last, json);
    return EXIT_OK;
  } finally {
    await updates.return?.();
    stop.dispose();
    db.close();
  }
}

/** `honker-ts events FILE QUEUE`. */
export const events: Command = {
  name: "events",
  summary: "a queue's job events",
  args: "FILE QUEUE",
  arity: [2, 2],
  description: "Prints the job events of QUEUE (enqueued, active, completed, failed, retried,\n" +
    "dead, cancelled, progress), oldest first: every stored one after --since, or with\n" +
    "--follow, each new one as any process commits it (after --since, or from now on),\n" +
    "until Ctrl-C or SIGTERM. Events are recorded only for queues that switched them on.\n" +
    "Lines: TIME  #ID  job JOB  TYPE  attempt N  [DATA]. Read-only.",
  flags: {
    since: { type: "string", help: "--since ID      only events after this event id" },
    follow: { type: "boolean", help: "--follow        keep printing new events" },
    json: { type: "boolean", help: "--json          print one JSON object per line" },
  },
  run: runEvents,
};
