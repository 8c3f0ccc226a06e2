/**
 * Quick start: a business write and its job in one transaction, a worker that claims, retries
 * and acks, and the dead letters. Runs unchanged on Node 22.18+, Deno and Bun:
 *
 *   node examples/quickstart.ts
 *   deno run -A examples/quickstart.ts
 *   bun examples/quickstart.ts
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-quickstart-"));
const db = await open(join(dir, "app.db"));
db.driver.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT NOT NULL)");

type Receipt = { orderId: number; email: string };
const receipts = db.queue<Receipt>("receipts", { maxAttempts: 2 });

// The order and the job that follows from it commit together, or not at all.
for (const [id, email] of [[1, "ada@example.com"], [2, "bad-address"]] as const) {
  db.transaction((tx) => {
    tx.run("INSERT INTO orders (id, email) VALUES (?, ?)", [id, email]);
    receipts.enqueue({ orderId: id, email }, { tx });
  });
}
console.log("enqueued:", receipts.stats());

// A worker: ack what succeeds, retry what fails; after maxAttempts a job is dead-lettered.
for (let round = 1; round <= 2; round++) {
  for (const job of receipts.claimBatch("worker-1", 10)) {
    if (job.payload.email.includes("@")) {
      console.log(`round ${round}: sent receipt for order ${job.payload.orderId}`);
      job.ack();
    } else {
      console.log(`round ${round}: order ${job.payload.orderId} failed (attempt ${job.attempts})`);
      job.retry(0, `invalid address ${JSON.stringify(job.payload.email)}`);
    }
  }
}

console.log("after the worker:", receipts.stats());
for (const dead of receipts.deadLetters()) {
  console.log(`dead: job ${dead.id} after ${dead.attempts} attempts: ${dead.lastError}`);
}

db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
