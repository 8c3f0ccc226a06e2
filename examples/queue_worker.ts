/**
 * A worker with `work()`: acks what succeeds, retries what throws with exponential backoff,
 * dead-letters what keeps failing, and stops cleanly on abort.
 *
 *   node examples/queue_worker.ts | deno run -A examples/queue_worker.ts | bun examples/queue_worker.ts
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-worker-"));
const db = await open(join(dir, "app.db"));

type Thumbnail = { imageId: number };
const thumbnails = db.queue<Thumbnail>("thumbnails", { maxAttempts: 3 });
thumbnails.enqueueMany([{ imageId: 1 }, { imageId: 2 }, { imageId: 13 }]);

const stop = new AbortController();
const done = thumbnails.work(async (job) => {
  if (job.payload.imageId === 13) throw new Error("corrupt image");
  await new Promise((resolve) => setTimeout(resolve, 10)); // the real work
  console.log(`made thumbnail for image ${job.payload.imageId}`);
}, {
  concurrency: 2,
  signal: stop.signal,
  retryDelayS: 0, // retry at once for the demo; the default backs off from 5 s
  onError: (error, job) => console.log(`job ${job.id} failed (attempt ${job.attempts}): ${error}`),
});

// Stop once nothing is left to do.
while (thumbnails.stats().pending + thumbnails.stats().processing > 0) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
stop.abort();
console.log("result:", JSON.stringify(await done));
for (const dead of thumbnails.deadLetters()) {
  console.log(`dead letter: job ${dead.id} after ${dead.attempts} attempts: ${dead.lastError}`);
}

db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
