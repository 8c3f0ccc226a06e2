/**
 * `tail` (follow a stream) and `listen` (follow a notification channel). Both print one line
 * per event until SIGINT or SIGTERM, then close the file and exit 0. They only read: `tail` keeps
 * its position in memory and never saves a consumer offset.
 *
 * @module
 */

import type { Database, Notification, StreamEvent } from "../mod.ts";
import { EXIT_OK, note, offsetArg, print, printJsonLine, stopOnSignals } from "./_cli.ts";
import type { Command, Flag, Values } from "./_cli.ts";
import { openExisting } from "./_file.ts";
import { clock, payloadText } from "./_format.ts";
import { STREAM_LAST_OFFSET } from "./_inspect_sql.ts";

/** Events read per page while catching up. */
const TAIL_PAGE = 500;
/** How long one wait for new events lasts before it is simply started again. */
const TAIL_WAIT_MS = 30_000;

const NDJSON_FLAG: Record<string, Flag> = {
  json: { type: "boolean", help: "--json          print one JSON object per line" },
};

function eventLine(event: StreamEvent): string {
  const key = event.key === null ? "" : `  key=${event.key}`;
  return `${clock(event.createdAt)}  #${event.offset}${key}  ${payloadText(event.payload)}`;
}

function notificationLine(n: Notification): string {
  return `${clock(n.createdAt)}  #${n.id}  ${payloadText(n.payload)}`;
}

/**
 * Opens `file` and runs `follow` with an AbortSignal that SIGINT or SIGTERM aborts; then removes
 * the signal handlers and closes the file. Exits 0 once `follow` returns.
 */
async function untilStopped(
  file: string,
  follow: (db: Database, signal: AbortSignal) => Promise<void>,
): Promise<number> {
  const db = await openExisting(file);
  const stop = stopOnSignals();
  try {
    await follow(db, stop.signal);
    return EXIT_OK;
  } finally {
    stop.dispose();
    db.close();
  }
}

function runTail([file, topic]: string[], values: Values): Promise<number> {
  const from = values.from === undefined
    ? undefined
    : offsetArg(String(values.from), "--from", "tail");
  return untilStopped(file, async (db, signal) => {
    const stream = db.stream(topic);
    let offset = from ??
      db.driver.get<{ offset: number }>(STREAM_LAST_OFFSET, [topic])?.offset ?? 0;
    note("tail", `following stream ${JSON.stringify(topic)} after offset ${offset}`);
    while (!signal.aborted) {
      const events = await stream.waitForEvents(offset, {
        limit: TAIL_PAGE,
        timeoutMs: TAIL_WAIT_MS,
        signal,
      });
      for (const event of events) {
        if (values.json) printJsonLine(event);
        else print(eventLine(event));
        offset = event.offset;
      }
    }
  });
}

function runListen([file, channel]: string[], values: Values): Promise<number> {
  return untilStopped(file, async (db, signal) => {
    const notifications = db.listen(channel, { signal });
    note("listen", `listening on channel ${JSON.stringify(channel)}`);
    for await (const n of notifications) {
      if (values.json) printJsonLine(n);
      else print(notificationLine(n));
    }
  });
}

/** `honker-ts tail FILE TOPIC`. */
export const tail: Command = {
  name: "tail",
  summary: "print a stream's events as they are published",
  args: "FILE TOPIC",
  arity: [2, 2],
  description:
    "Prints each event of stream TOPIC published from now on (with --from, every event\n" +
    "after OFFSET first: --from 0 replays the whole stream), until Ctrl-C or SIGTERM.\n" +
    "Saves no consumer offset. Lines: TIME  #OFFSET  [key=KEY]  PAYLOAD.",
  flags: {
    from: { type: "string", help: "--from OFFSET   start after this offset (default: the end)" },
    ...NDJSON_FLAG,
  },
  run: runTail,
};

/** `honker-ts listen FILE CHANNEL`. */
export const listen: Command = {
  name: "listen",
  summary: "print notifications on a channel",
  args: "FILE CHANNEL",
  arity: [2, 2],
  description:
    "Prints each notification sent on CHANNEL from now on (by notify() in any process\n" +
    "or SQL trigger), until Ctrl-C or SIGTERM. Lines: TIME  #ID  PAYLOAD.",
  flags: { ...NDJSON_FLAG },
  run: runListen,
};
