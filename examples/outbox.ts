/**
 * The transactional outbox: a webhook is delivered only if the order committed, and retried
 * with backoff until the receiver accepts it.
 *
 *   node examples/outbox.ts | deno run -A … | bun …
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-outbox-"));
const db = await open(join(dir, "app.db"));
db.driver.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY)");

let receiverUp = false; // a flaky receiver: the first call fails
const webhooks = db.outbox<{ orderId: number }>("webhooks", (payload, job) => {
  if (!receiverUp) {
    receiverUp = true;
    throw new Error("receiver returned HTTP 503");
  }
  console.log(`delivered order ${payload.orderId} (attempt ${job.attempts})`);
}, { baseBackoffS: 0 });

db.transaction((tx) => {
  tx.run("INSERT INTO orders (id) VALUES (?)", [42]);
  webhooks.enqueue({ orderId: 42 }, { tx });
});
try {
  db.transaction((tx) => {
    tx.run("INSERT INTO orders (id) VALUES (?)", [43]);
    webhooks.enqueue({ orderId: 43 }, { tx });
    throw new Error("order 43 rolled back: its webhook never exists");
  });
} catch (error) {
  console.log((error as Error).message);
}

const stop = new AbortController();
const running = webhooks.run({ signal: stop.signal });
while (webhooks.queue.stats().pending + webhooks.queue.stats().processing > 0) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
stop.abort();
console.log("outbox worker:", JSON.stringify(await running));

db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
