/**
 * `stats` (queues, streams and schedules at a glance) and `schedules`.
 *
 * @module
 */

import type { ScheduledTask, SqliteDriver } from "../mod.ts";
import { EXIT_OK, JSON_FLAG, print, printJson } from "./_cli.ts";
import type { Command, Values } from "./_cli.ts";
import { inspect, sqliteNow } from "./_file.ts";
import { duration, localTime, relative, table } from "./_format.ts";
import { queueSummaries, schedules, streamSummaries } from "./_inspect.ts";
import type { QueueSummary, StreamSummary } from "./_inspect.ts";

/** Everything `stats` shows, and its `--json` shape. */
export interface Snapshot {
  file: string;
  /** SQLite's unixepoch() when it was read. */
  now: number;
  queues: QueueSummary[];
  streams: StreamSummary[];
  schedules: ScheduledTask[];
}

/** Reads a snapshot in one read transaction, so its numbers agree with each other. */
export function snapshot(
  driver: SqliteDriver,
  tables: ReadonlySet<string>,
  file: string,
): Snapshot {
  driver.exec("BEGIN");
  try {
    const now = sqliteNow(driver);
    return {
      file,
      now,
      queues: queueSummaries(driver, tables, now),
      streams: streamSummaries(driver, tables),
      schedules: schedules(driver, tables),
    };
  } finally {
    driver.exec("COMMIT");
  }
}

function queuesTable(queues: QueueSummary[]): string {
  if (queues.length === 0) return "Queues: none\n";
  return table(
    [
      { header: "QUEUE", shrink: true },
      { header: "PENDING", align: "right" },
      { header: "SCHEDULED", align: "right" },
      { header: "PROCESSING", align: "right" },
      { header: "DEAD", align: "right" },
      { header: "OLDEST PENDING" },
    ],
    queues.map((q) => [
      q.name,
      String(q.pending),
      String(q.scheduled),
      String(q.processing),
      String(q.dead),
      q.oldestPendingAgeS === null ? "-" : duration(q.oldestPendingAgeS),
    ]),
  );
}

function streamsTable(streams: StreamSummary[]): string {
  if (streams.length === 0) return "Streams: none\n";
  const rows = streams.flatMap((s) => {
    const head = [s.topic, s.lastOffset === null ? "-" : String(s.lastOffset), String(s.events)];
    if (s.consumers.length === 0) return [[...head, "-", "", ""]];
    return s.consumers.map((c, i) => [
      ...(i === 0 ? head : ["", "", ""]),
      c.name,
      String(c.offset),
      String(c.lag),
    ]);
  });
  return table(
    [
      { header: "STREAM", shrink: true },
      { header: "LAST OFFSET", align: "right" },
      { header: "EVENTS", align: "right" },
      { header: "CONSUMER", shrink: true },
      { header: "OFFSET", align: "right" },
      { header: "LAG", align: "right" },
    ],
    rows,
  );
}

function nextFire(task: ScheduledTask, now: number): string {
  return task.enabled ? relative(task.nextFireAt, now) : "paused";
}

function schedulesTable(tasks: ScheduledTask[], now: number, detailed: boolean): string {
  if (tasks.length === 0) return "Schedules: none\n";
  const columns = [
    { header: "SCHEDULE", shrink: true },
    { header: "QUEUE", shrink: true },
    { header: "EXPRESSION", shrink: true },
    { header: "NEXT FIRE" },
  ];
  if (!detailed) {
    return table(columns, tasks.map((t) => [t.name, t.queue, t.schedule, nextFire(t, now)]));
  }
  return table(
    [...columns, { header: "AT (LOCAL TIME)" }],
    tasks.map((t) => [t.name, t.queue, t.schedule, nextFire(t, now), localTime(t.nextFireAt)]),
  );
}

/** The human rendering of a snapshot (also the screen of `watch`). */
export function renderSnapshot(snap: Snapshot): string {
  return [
    queuesTable(snap.queues),
    streamsTable(snap.streams),
    schedulesTable(snap.schedules, snap.now, false),
  ].join("\n");
}

async function runStats([file]: string[], values: Values): Promise<number> {
  const { driver, tables } = await inspect(file);
  try {
    const snap = snapshot(driver, tables, file);
    if (values.json) printJson(snap);
    else print(renderSnapshot(snap));
    return EXIT_OK;
  } finally {
    driver.close();
  }
}

async function runSchedules([file]: string[], values: Values): Promise<number> {
  const { driver, tables } = await inspect(file);
  try {
    const tasks = schedules(driver, tables);
    if (values.json) printJson(tasks);
    else print(schedulesTable(tasks, sqliteNow(driver), true));
    return EXIT_OK;
  } finally {
    driver.close();
  }
}

/** `honker-ts stats FILE`. */
export const stats: Command = {
  name: "stats",
  summary: "queues, streams and schedules at a glance",
  args: "FILE",
  arity: [1, 1],
  description: "Every queue (pending = due now, scheduled = due later, processing = claimed,\n" +
    "dead; how long the oldest due job has waited), every stream (last offset, events,\n" +
    "consumers and their lag) and every schedule with its next fire. Read-only.",
  flags: { ...JSON_FLAG },
  run: runStats,
};

/** `honker-ts schedules FILE`. */
export const schedulesCommand: Command = {
  name: "schedules",
  summary: "cron schedules and their next fire",
  args: "FILE",
  arity: [1, 1],
  description: "Every schedule of the scheduler: its queue, expression, and next fire (in local\n" +
    "time, as honker's cron fires), or paused. Read-only.",
  flags: { ...JSON_FLAG },
  run: runSchedules,
};
