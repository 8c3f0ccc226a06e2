/**
 * The demo's stream subscriber: a named consumer reading every order event, its offset saved in
 * the file as it goes.
 *
 *   bun demo/subscriber.ts <db> <name>
 *
 * @module
 */

import { open } from "../mod.ts";
import {
  AUDIT_CONSUMER,
  ORDERS_TOPIC,
  report,
  roleArgs,
  runtimeName,
  stopWhenStdinCloses,
} from "./_role.ts";
import type { OrderEvent } from "./_role.ts";

const { path } = roleArgs();
const signal = stopWhenStdinCloses();
const db = await open(path);
const orders = db.stream<OrderEvent>(ORDERS_TOPIC);
const seen = new Set<number>();
let events = 0;
let lastOffset = orders.getOffset(AUDIT_CONSUMER);

report("ready", { runtime: runtimeName(), wake: db.wakeSource });
for await (const event of orders.subscribe(AUDIT_CONSUMER, { signal })) {
  events++;
  seen.add(event.payload.orderId);
  lastOffset = event.offset;
}
report("done", { events, distinctOrders: seen.size, lastOffset });
db.close();
