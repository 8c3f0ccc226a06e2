/**
 * A durable event stream with a named consumer: it resumes after a restart from its saved
 * offset, and delivery is at-least-once: an event counts as handled once the loop asks for the
 * next one (or calls `commit()`), so an event whose handling was cut short is delivered again.
 *
 *   node examples/stream_consumer.ts | deno run -A … | bun …
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-stream-"));
const path = join(dir, "events.db");

type OrderEvent = { orderId: number; status: string };
let db = await open(path);
db.stream<OrderEvent>("orders").publishMany([
  { orderId: 1, status: "placed" },
  { orderId: 1, status: "paid" },
  { orderId: 2, status: "placed" },
]);

// First run: handle one event, then "crash" while the second is in hand (leave the loop).
let seen = 0;
for await (const event of db.stream<OrderEvent>("orders").subscribe("billing")) {
  console.log(
    `run 1: offset ${event.offset}: order ${event.payload.orderId} ${event.payload.status}`,
  );
  if (++seen === 2) break; // the second event was not finished: it is not counted as handled
}
db.close();

// A restart resumes after the last handled event: the second one is delivered again.
db = await open(path);
const orders = db.stream<OrderEvent>("orders");
console.log(
  `billing resumes after offset ${orders.getOffset("billing")}, lag ${orders.lag("billing")}`,
);
const lastOffset = orders.readSince(0).at(-1)?.offset;
const billing = orders.subscribe("billing");
for await (const event of billing) {
  console.log(
    `run 2: offset ${event.offset}: order ${event.payload.orderId} ${event.payload.status}`,
  );
  if (event.offset === lastOffset) {
    billing.commit(); // finished: save it before leaving (a real consumer keeps waiting)
    break;
  }
}
console.log("consumers:", JSON.stringify(orders.consumers()));

db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
