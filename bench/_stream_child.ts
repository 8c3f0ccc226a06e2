/**
 * The stream benchmark's processes for cross-process latency, run on the runtime under test.
 *
 * ```sh
 * <runtime> bench/_stream_child.ts publisher <db> <stream|notify> <count> <seed> <gapMinMs> <gapMaxMs>
 * <runtime> bench/_stream_child.ts receiver <db> <stream|notify>
 * ```
 *
 * - `publisher` publishes one event (or sends one notification) per autocommit at seeded random
 *   gaps, noting the wall time right after each commit returned, on `run`; it answers with
 *   `[offset or id, committedAt]` pairs. It never waits for anything, so its own watcher is the
 *   cheapest there is (fs with a slow backstop, or a slow poll where fs is refused).
 * - `receiver` subscribes (or listens) event-only with the default wake mode on `listen`, noting
 *   when each event arrives; on `stop` it answers with `[offset or id, receivedAt]` pairs.
 *
 * Both speak `ping` (answered with the calibrated clock, see `_wake_common.ts`) and exit when
 * stdin closes.
 *
 * @module
 */

import process from "node:process";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { fsEventsUnsafe } from "../wake/watch_options.ts";
import { onCommands, prng, send, sendAndExit, sleep, wallClock } from "./_wake_common.ts";

/** The topic and the channel the latency cases use. */
export const LIVE_NAME = "bench-live";
/** About 70 bytes of JSON, like the other cases. */
const EVENT = { order: 123456, customer: "someone@example.com", total: 42.5 };

const [role, path, kind, ...rest] = process.argv.slice(2);
const clock = wallClock();

function publisher(db: Database): void {
  const [count, seed, gapMinMs, gapMaxMs] = rest.map(Number);
  const random = prng(seed);
  const stream = db.stream(LIVE_NAME);
  const runAll = async () => {
    const committed: Array<[number, number]> = [];
    for (let n = 0; n < count; n++) {
      await sleep(gapMinMs + random() * (gapMaxMs - gapMinMs));
      const id = kind === "stream"
        ? stream.publish({ ...EVENT, n })
        : db.notify(LIVE_NAME, { ...EVENT, n });
      committed.push([id, clock.now()]);
    }
    send({ committed });
  };
  onCommands((command) => {
    if (command === "ping") send({ pong: clock.now() });
    else if (command === "run") void runAll();
    else if (command === "exit") {
      db.close();
      sendAndExit({ bye: true });
    }
  });
}

function receiver(db: Database): void {
  const stop = new AbortController();
  const received: Array<[number, number]> = [];
  let done: Promise<void> = Promise.resolve();
  const consume = async (events: AsyncIterable<{ offset?: number; id?: number }>) => {
    for await (const event of events) {
      const at = clock.now();
      received.push([(event.offset ?? event.id) as number, at]);
    }
  };
  onCommands((command) => {
    if (command === "ping") send({ pong: clock.now() });
    else if (command === "listen") {
      const options = { idlePollMs: null, signal: stop.signal };
      done = consume(
        kind === "stream"
          ? db.stream(LIVE_NAME).subscribe("bench", options)
          : db.listen(LIVE_NAME, options),
      );
      send({ listening: true });
    } else if (command === "stop") {
      stop.abort();
      void done.finally(() => {
        const wakeMode = db.wakeSource;
        db.close();
        sendAndExit({ received, wakeMode });
      });
    }
  });
}

async function main(): Promise<void> {
  if (role === "publisher") {
    const quiet = fsEventsUnsafe()
      ? { wake: "poll" as const, pollIntervalMs: 1000 }
      : { wake: "fs" as const, backstopPollMs: 60_000 };
    publisher(await open(path, quiet));
  } else if (role === "receiver") {
    receiver(await open(path));
  } else {
    throw new TypeError(`_stream_child: unknown role ${JSON.stringify(role)}`);
  }
  send({ ready: true, uncertaintyMs: clock.uncertaintyMs });
}

await main();
