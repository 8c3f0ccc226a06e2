/**
 * `pause` and `resume`: stop and restart the claims of one queue in every honker-ts process on
 * the file, through the queue API (`queue.pause()`, `queue.resume()`).
 *
 * @module
 */

import { EXIT_OK, print, printJson } from "./_cli.ts";
import type { Command, Flag, Values } from "./_cli.ts";
import { openExisting } from "./_file.ts";

const JSON_RESULT: Record<string, Flag> = {
  json: { type: "boolean", help: "--json          print the outcome as JSON" },
};

async function setPaused([file, queue]: string[], values: Values, paused: boolean) {
  const db = await openExisting(file);
  let changed: boolean;
  try {
    const q = db.queue(queue);
    changed = paused ? q.pause() : q.resume();
  } finally {
    db.close();
  }
  const name = JSON.stringify(queue);
  if (values.json) printJson({ queue, paused, changed });
  else if (paused) print(changed ? `Paused queue ${name}` : `Queue ${name} was already paused`);
  else print(changed ? `Resumed queue ${name}` : `Queue ${name} was not paused`);
  return EXIT_OK;
}

/** `honker-ts pause FILE QUEUE`. */
export const pause: Command = {
  name: "pause",
  summary: "stop claims from a queue",
  args: "FILE QUEUE",
  arity: [2, 2],
  description: "Pauses QUEUE: workers in every honker-ts process on the file take no new jobs\n" +
    "from it (running handlers finish; enqueues still work) until `honker-ts resume`. A\n" +
    "honker process (its extension or bindings) does not read the pause and keeps claiming.",
  flags: { ...JSON_RESULT },
  run: (positionals, values) => setPaused(positionals, values, true),
};

/** `honker-ts resume FILE QUEUE`. */
export const resume: Command = {
  name: "resume",
  summary: "restart claims from a paused queue",
  args: "FILE QUEUE",
  arity: [2, 2],
  description: "Resumes a paused QUEUE: waiting workers in every process look at once.",
  flags: { ...JSON_RESULT },
  run: (positionals, values) => setPaused(positionals, values, false),
};
