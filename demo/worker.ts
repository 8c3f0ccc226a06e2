/**
 * A demo worker: `queue.work()` on the shipments queue. Each job's handler records a shipped row
 * with its wake latency (enqueue → handler start, on the aligned wall clock); `work()` acks it
 * right after.
 *
 *   deno run -A demo/worker.ts <db> <name>   |   bun demo/worker.ts <db> <name>
 *
 * @module
 */

import { open } from "../mod.ts";
import { alignedWallClock } from "./_clock.ts";
import { report, roleArgs, runtimeName, SHIPMENTS_QUEUE, stopWhenStdinCloses } from "./_role.ts";
import type { ShipmentJob } from "./_role.ts";

const SHIPPED_INSERT =
  "INSERT INTO shipped (order_id, job_id, worker, latency_us) VALUES (?, ?, ?, ?)";

const { path, name } = roleArgs();
const signal = stopWhenStdinCloses();
const db = await open(path);
const shipments = db.queue<ShipmentJob>(SHIPMENTS_QUEUE);
const clock = alignedWallClock();
let started = 0;
const errors: string[] = [];

const working = shipments.work((job) => {
  const latencyUs = Math.round((clock.now() - job.payload.enqueuedAtMs) * 1000);
  started++;
  // A second delivery of the same job would fail here (order_id is unique), so a
  // duplicate cannot hide: it shows up as a retry in the counts below.
  db.transaction((tx) => tx.run(SHIPPED_INSERT, [job.payload.orderId, job.id, name, latencyUs]));
}, {
  workerId: `worker-${name}`,
  signal,
  retryDelayS: 1,
  graceMs: 5_000,
  onError: (error) => {
    if (errors.length < 5) errors.push(String(error));
  },
});
report("ready", { runtime: runtimeName(), wake: db.wakeSource, alignmentUs: clock.alignmentUs });
const result = await working;
report("done", { started, ...result, errors });
db.close();
