/**
 * A cron schedule that enqueues a job at every boundary, a leader that ticks it (any number of
 * processes may run `scheduler.run()`; one leads, the others stand by), and a worker for the
 * jobs it produces.
 *
 *   node examples/cron_job.ts | deno run -A examples/cron_job.ts | bun examples/cron_job.ts
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nextFireAfter, open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-cron-"));
const db = await open(join(dir, "app.db"));

// honker's syntax: 5 or 6 fields (seconds first when 6), or @every <n><s|m|h|d>.
const scheduler = db.scheduler();
scheduler.add({
  name: "heartbeat",
  queue: "pings",
  schedule: "@every 1s",
  payload: { kind: "ping" },
});
scheduler.add({ name: "weekday-report", queue: "reports", schedule: "0 9 * * 1-5" });
const now = Math.floor(Date.now() / 1000);
console.log(
  "weekday report next at",
  new Date(nextFireAfter("0 9 * * 1-5", now) * 1000).toString(),
);

const stop = new AbortController();
const leader = scheduler.run({ owner: "example", signal: stop.signal });
let pings = 0;
const worker = db.queue<{ kind: string }>("pings").work((job) => {
  pings++;
  console.log(`ping ${pings} (job ${job.id}): ${job.payload.kind}`);
  if (pings === 3) stop.abort();
}, { signal: stop.signal, idlePollMs: null });

await Promise.all([leader, worker]);
for (const task of scheduler.list()) {
  console.log(`${task.name}: "${task.schedule}" → queue ${task.queue}, enabled ${task.enabled}`);
}
console.log(`received ${pings} pings`);

db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
