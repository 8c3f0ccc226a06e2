/**
 * The demo's producer: at a steady rate, commits an order, the job that ships it and an event
 * announcing it, all three in one transaction.
 *
 *   node demo/producer.ts <db> <name> <ordersPerS>
 *
 * @module
 */

import { open } from "../mod.ts";
import { alignedWallClock } from "./_clock.ts";
import {
  ORDERS_TOPIC,
  report,
  roleArgs,
  runtimeName,
  SHIPMENTS_QUEUE,
  stopWhenStdinCloses,
} from "./_role.ts";
import type { OrderEvent, ShipmentJob } from "./_role.ts";

const ORDER_INSERT = "INSERT INTO orders (customer, total_cents) VALUES (?, ?)";

const { path, rest } = roleArgs();
const ordersPerS = Number(rest[0]);
if (!(ordersPerS > 0)) throw new RangeError("Cannot produce: ordersPerS must be positive");
const signal = stopWhenStdinCloses();
const db = await open(path);
const shipments = db.queue<ShipmentJob>(SHIPMENTS_QUEUE);
const orders = db.stream<OrderEvent>(ORDERS_TOPIC);
const clock = alignedWallClock();

function placeOrder(n: number): void {
  const customer = `customer-${n % 17}`;
  const totalCents = 500 + ((n * 7919) % 20_000);
  db.transaction((tx) => {
    const orderId = tx.run(ORDER_INSERT, [customer, totalCents]).lastInsertRowid;
    shipments.enqueue({ orderId, enqueuedAtMs: clock.now() }, { tx });
    orders.publish({ orderId, customer, totalCents }, { tx, key: customer });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

report("ready", { runtime: runtimeName(), wake: db.wakeSource, alignmentUs: clock.alignmentUs });
// Order n is due at start + n periods: a late timer is caught up, so the rate does not drift.
const periodMs = 1000 / ordersPerS;
const startMs = performance.now();
let placed = 0;
while (!signal.aborted) {
  const waitMs = startMs + placed * periodMs - performance.now();
  if (waitMs > 0) await sleep(waitMs);
  if (signal.aborted) break;
  placeOrder(placed);
  placed++;
}
report("done", { orders: placed });
db.close();
