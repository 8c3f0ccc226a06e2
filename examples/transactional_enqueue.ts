/**
 * A business write and the job it causes commit in one SQLite transaction: a rollback drops
 * both, a commit keeps both. No dual writes.
 *
 *   node examples/transactional_enqueue.ts | deno run -A … | bun …
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-tx-"));
const db = await open(join(dir, "shop.db"));
db.driver.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total_cents INTEGER NOT NULL)");
const emails = db.queue<{ orderId: number }>("order-emails");

function placeOrder(id: number, totalCents: number): void {
  db.transaction((tx) => {
    tx.run("INSERT INTO orders (id, total_cents) VALUES (?, ?)", [id, totalCents]);
    emails.enqueue({ orderId: id }, { tx });
    if (totalCents <= 0) throw new Error(`order ${id}: total must be positive`);
  });
}

placeOrder(1, 4200);
try {
  placeOrder(2, -1);
} catch (error) {
  console.log("rolled back:", (error as Error).message);
}

const orders = db.driver.all<{ id: number }>("SELECT id FROM orders").map((row) => row.id);
const jobs = emails.claimBatch("mailer", 10).map((job) => job.payload.orderId);
console.log("orders:", orders, "email jobs:", jobs);
console.log(
  orders.join() === jobs.join() ? "consistent: every order has its email job" : "MISMATCH",
);

db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
