/**
 * The wake benchmark's writer process: autocommit enqueues through honker-ts at seeded random
 * gaps, recording the wall time right after each commit returns. Given a Redis port, it adds
 * the jobs with BullMQ's `Queue.add` instead, recording the time each `add` resolved.
 *
 * ```sh
 * node --no-warnings bench/_wake_writer.ts <db> <commits> <seed> <gapMinMs> <gapMaxMs> [redisPort]
 * ```
 *
 * Commands on stdin, one per line: `ping` (answers with its clock), `run` (makes the commits and
 * answers with `[id, committedAt]` pairs), `recal` (reports how far its clock drifted), `exit`.
 *
 * @module
 */

import process from "node:process";
import { Queue as BullQueue } from "bullmq";
import { open } from "../mod.ts";
import { BULLMQ_QUEUE } from "./_wake_bullmq.ts";
import {
  measureOffset,
  onCommands,
  prng,
  send,
  sendAndExit,
  sleep,
  wallClock,
} from "./_wake_common.ts";

const [path, commitsArg, seedArg, gapMinArg, gapMaxArg, redisPort] = process.argv.slice(2);
const commits = Number(commitsArg);
const random = prng(Number(seedArg));
const gapMinMs = Number(gapMinArg);
const gapMaxMs = Number(gapMaxArg);

const clock = wallClock();
const startOffset = clock.now() - performance.now();
// fs mode with a slow backstop: the writer's own watcher should cost it (and the machine)
// nothing while it writes; it never waits for anything.
const db = await open(path, { wake: "fs", backstopPollMs: 60_000 });
const queue = db.queue<{ n: number }>("wake-bench");
const bull = redisPort
  ? new BullQueue(BULLMQ_QUEUE, { connection: { host: "127.0.0.1", port: Number(redisPort) } })
  : undefined;
await bull?.waitUntilReady();

async function run(): Promise<void> {
  const committed: Array<[number, number]> = [];
  for (let n = 0; n < commits; n++) {
    await sleep(gapMinMs + random() * (gapMaxMs - gapMinMs));
    // honker-ts's enqueue stays synchronous here: no promise hop between commit and clock read.
    const id = bull ? Number((await bull.add("job", { n })).id) : queue.enqueue({ n });
    committed.push([id, clock.now()]);
  }
  send({ committed });
}

onCommands((command) => {
  if (command === "ping") send({ pong: clock.now() });
  else if (command === "run") void run();
  else if (command === "recal") send({ driftMs: measureOffset().offsetMs - startOffset });
  else if (command === "exit") {
    db.close();
    void (bull?.close() ?? Promise.resolve()).finally(() => sendAndExit({ bye: true }));
  }
});
send({
  ready: true,
  runtime: "node",
  uncertaintyMs: clock.uncertaintyMs,
  rawSkewMs: clock.rawSkewMs,
});
