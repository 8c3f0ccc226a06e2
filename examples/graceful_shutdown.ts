/**
 * A worker that shuts down cleanly on SIGTERM (a deploy, `docker stop`, Kubernetes): it stops
 * claiming, lets the handlers in flight finish and commit, gives back any job whose handler is
 * still running after the grace period, and exits. Nothing is lost: every job is either done or
 * still waiting for the next worker. Without a signal it works until the queue is empty.
 *
 *   node examples/graceful_shutdown.ts [app.db]
 *   deno run -A examples/graceful_shutdown.ts [app.db]
 *   bun examples/graceful_shutdown.ts [app.db]
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { open } from "../mod.ts";

const given = process.argv[2];
const dir = given ? undefined : mkdtempSync(join(tmpdir(), "honker-ts-shutdown-"));
const db = await open(given ?? join(dir!, "app.db"));
db.driver.exec("CREATE TABLE IF NOT EXISTS sent (job_id INTEGER PRIMARY KEY, email TEXT)");

type Email = { to: string };
const emails = db.queue<Email>("emails");
if (emails.stats().pending === 0 && db.driver.get("SELECT 1 FROM sent") === undefined) {
  emails.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ to: `user${i}@example.com` })));
}

const worker = emails.worker(async (job, { signal }) => {
  console.log(`start ${job.id}`);
  await new Promise((resolve) => setTimeout(resolve, 150)); // the real work: call the mail API
  signal.throwIfAborted(); // abandoned after the grace period: do not record it as sent
  db.driver.run("INSERT INTO sent (job_id, email) VALUES (?, ?)", [job.id, job.payload.to]);
  console.log(`done ${job.id}`);
}, { concurrency: 4, timeoutS: 30 });
worker.addEventListener(
  "failed",
  (e) => console.log(`failed ${e.detail.job.id}: ${e.detail.error}`),
);

let stopping: Promise<void> | undefined;
function shutdown(why: string): Promise<void> {
  stopping ??= (async () => {
    clearInterval(idleCheck);
    process.off("SIGTERM", onSigterm);
    const result = await worker.close({ graceMs: 10_000 });
    console.log(`stopped (${why}): ${JSON.stringify(result)}`);
    db.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  })();
  return stopping;
}
const onSigterm = () => void shutdown("SIGTERM");
process.on("SIGTERM", onSigterm);
// Without a signal, stop once the queue is empty.
const idleCheck = setInterval(() => {
  const { pending, processing } = emails.stats();
  if (pending + processing === 0) void shutdown("queue empty");
}, 50);
console.log(`worker ${worker.workerId} started`);
