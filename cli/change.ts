/**
 * `requeue` and `cancel`: the two commands that change the file, each through the queue API so
 * that they do exactly what `queue.requeueDead(id)` and `queue.cancel(id)` do.
 *
 * @module
 */

import type { Database } from "../mod.ts";
import { EXIT_FAILURE, EXIT_OK, note, positiveInt, print, printJson } from "./_cli.ts";
import type { Command, Flag, Values } from "./_cli.ts";
import { openExisting } from "./_file.ts";
import { DEAD_QUEUE_OF, LIVE_QUEUE_OF } from "./_inspect_sql.ts";

/** What happened to one id. */
interface Outcome {
  id: number;
  /** The job's queue; null when no such job was found. */
  queue: string | null;
  /** The line printed for a human. */
  message: string;
}

const JSON_RESULT: Record<string, Flag> = {
  json: { type: "boolean", help: "--json          print the outcome of each id as JSON" },
};

function queueOf(db: Database, sql: string, id: number): string | null {
  const row = db.driver.get<{ queue: string }>(sql, [id]);
  return row === undefined ? null : String(row.queue);
}

async function each<T extends Outcome>(
  command: string,
  [file, ...ids]: string[],
  values: Values,
  apply: (db: Database, id: number) => T,
): Promise<number> {
  const parsed = ids.map((id) => positiveInt(id, "ID", command));
  const db = await openExisting(file);
  let outcomes: T[];
  try {
    outcomes = parsed.map((id) => apply(db, id));
  } finally {
    db.close();
  }
  if (values.json) {
    printJson(outcomes.map(({ message: _, ...rest }) => rest));
  } else {
    for (const outcome of outcomes) {
      if (outcome.queue === null) note(command, outcome.message);
      else print(outcome.message);
    }
  }
  return outcomes.some((outcome) => outcome.queue === null) ? EXIT_FAILURE : EXIT_OK;
}

function requeueOne(db: Database, id: number): Outcome & { newId: number | null } {
  const queue = queueOf(db, DEAD_QUEUE_OF, id);
  const newId = queue === null ? null : db.queue(queue).requeueDead(id);
  if (queue === null || newId === null) {
    return { id, queue: null, newId: null, message: `job ${id} is not in the dead letters` };
  }
  const message = `Requeued dead job ${id} as job ${newId} (queue ${JSON.stringify(queue)})`;
  return { id, queue, newId, message };
}

function cancelOne(db: Database, id: number): Outcome & { cancelled: boolean } {
  const queue = queueOf(db, LIVE_QUEUE_OF, id);
  if (queue === null || !db.queue(queue).cancel(id)) {
    const message = `job ${id} is not a live job (acked, dead, cancelled or unknown)`;
    return { id, queue: null, cancelled: false, message };
  }
  return {
    id,
    queue,
    cancelled: true,
    message: `Cancelled job ${id} (queue ${JSON.stringify(queue)})`,
  };
}

/** `honker-ts requeue FILE ID…`. */
export const requeue: Command = {
  name: "requeue",
  summary: "put dead jobs back in their queue",
  args: "FILE ID...",
  arity: [2, Infinity],
  description: "Moves each dead job back to its queue as a new pending job, due now, with the\n" +
    "same payload and priority and a fresh attempts budget (it gets a new id). Exits 1 if\n" +
    "an ID is not in the dead letters (the others are still requeued).",
  flags: { ...JSON_RESULT },
  run: (positionals, values) => each("requeue", positionals, values, requeueOne),
};

/** `honker-ts cancel FILE ID…`. */
export const cancel: Command = {
  name: "cancel",
  summary: "delete live jobs",
  args: "FILE ID...",
  arity: [2, Infinity],
  description: "Deletes each live job, pending or claimed (a worker holding it then finds its\n" +
    "ack or retry refused). Exits 1 if an ID is not a live job (the others are still\n" +
    "cancelled).",
  flags: { ...JSON_RESULT },
  run: (positionals, values) => each("cancel", positionals, values, cancelOne),
};
