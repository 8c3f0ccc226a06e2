/**
 * The actions a dashboard started with `actions: true` takes, each through the public API of a
 * writable Database: requeue one dead job or all of a queue's, purge a queue's dead letters,
 * pause and resume a queue or a schedule, run a schedule now, remove a stream consumer. Each
 * returns the sentence the page shows afterwards; a bad form field is a TypeError.
 *
 * @module
 */

import type { Database } from "../core/database.ts";
import { DEAD_BY_ID } from "./sql.ts";

/** Dead letters requeued per transaction by "requeue all". */
const REQUEUE_PAGE = 500;

/** The form fields of an action. */
export type Fields = URLSearchParams;

function field(fields: Fields, name: string): string {
  const value = fields.get(name);
  if (value === null || value === "") {
    throw new TypeError(`Cannot run the action: the form has no ${name}`);
  }
  return value;
}

function confirmed(fields: Fields, what: string): void {
  if (fields.get("confirm") !== "yes") {
    throw new TypeError(`Cannot ${what}: tick the confirmation box first`);
  }
}

function requeueOne(db: Database, fields: Fields): string {
  const id = Number(field(fields, "id"));
  const row = Number.isSafeInteger(id)
    ? db.driver.get<{ queue: string }>(DEAD_BY_ID, [id])
    : undefined;
  if (!row) throw new TypeError(`Cannot requeue job #${fields.get("id")}: it is not a dead letter`);
  const newId = db.queue(row.queue).requeueDead(id);
  return newId === null ? `Job #${id} was no longer dead` : `Requeued job #${id} as #${newId}`;
}

function requeueAll(db: Database, fields: Fields): string {
  const queue = db.queue(field(fields, "queue"));
  let total = 0;
  for (;;) {
    const moved = db.transaction(() => {
      const dead = queue.deadLetters({ limit: REQUEUE_PAGE });
      for (const job of dead) queue.requeueDead(job.id);
      return dead.length;
    });
    total += moved;
    if (moved < REQUEUE_PAGE) break;
  }
  return `Requeued ${total} dead job${total === 1 ? "" : "s"} of ${queue.name}`;
}

function purge(db: Database, fields: Fields): string {
  const name = field(fields, "queue");
  confirmed(fields, `purge the dead letters of ${name}`);
  const purged = db.queue(name).purgeDead();
  return `Purged ${purged} dead job${purged === 1 ? "" : "s"} of ${name}`;
}

function runSchedule(db: Database, fields: Fields): string {
  const name = field(fields, "name");
  const task = db.scheduler().list().find((t) => t.name === name);
  if (!task) throw new TypeError(`Cannot run schedule ${name}: no such schedule`);
  const id = db.queue(task.queue).enqueue(task.payload, {
    priority: task.priority,
    maxAttempts: task.maxAttempts,
    ...(task.expiresS === null ? {} : { expiresS: task.expiresS }),
  });
  return `Ran schedule ${name} now: job #${id} in ${task.queue}`;
}

function said(done: boolean, yes: string, no: string): string {
  return done ? yes : no;
}

/** Every action by name: runs it and returns what the page says afterwards. */
export const ACTIONS: Readonly<Record<string, (db: Database, fields: Fields) => string>> = {
  "requeue": requeueOne,
  "requeue-all": requeueAll,
  "purge": purge,
  "queue-pause": (db, f) =>
    said(db.queue(field(f, "queue")).pause(), `Paused ${f.get("queue")}`, "Already paused"),
  "queue-resume": (db, f) =>
    said(db.queue(field(f, "queue")).resume(), `Resumed ${f.get("queue")}`, "Not paused"),
  "schedule-pause": (db, f) =>
    said(
      db.scheduler().pause(field(f, "name")),
      `Paused schedule ${f.get("name")}`,
      "No such schedule",
    ),
  "schedule-resume": (db, f) =>
    said(
      db.scheduler().resume(field(f, "name")),
      `Resumed schedule ${f.get("name")}`,
      "No such schedule",
    ),
  "schedule-run": runSchedule,
  "remove-consumer": (db, f) => {
    const consumer = field(f, "consumer");
    confirmed(f, `remove consumer ${consumer}`);
    return said(
      db.stream(field(f, "topic")).removeConsumer(consumer),
      `Removed consumer ${consumer}`,
      `No consumer ${consumer}`,
    );
  },
};
