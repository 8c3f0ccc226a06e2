/**
 * Sharding on one host: several files, one writer each, and `shardFor()` routing every key to
 * the file that owns it. All of one customer's orders land in one file, so a customer's jobs and
 * events keep their order and their transactions; different customers spread over the files.
 *
 *   node examples/sharding.ts | deno run -A … | bun …
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";
import type { Database } from "../mod.ts";
import { shardFor } from "./shard_for.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-shards-"));
const FILES = ["orders-a.db", "orders-b.db", "orders-c.db", "orders-d.db"];
const shards = new Map<string, Database>();
for (const file of FILES) shards.set(file, await open(join(dir, file)));

type Order = { customer: string; n: number };
/** The one place that knows where a key lives. */
function ordersOf(customer: string) {
  return shards.get(shardFor(customer, FILES))!.queue<Order>("orders");
}

try {
  for (let n = 0; n < 1000; n++) {
    const customer = `customer-${n % 50}`;
    ordersOf(customer).enqueue({ customer, n });
  }
  const counts = FILES.map((file) => shards.get(file)!.queue("orders").stats().pending);
  console.log(`orders per file: ${FILES.map((f, i) => `${f} ${counts[i]}`).join(", ")}`);
  // Every order of one customer is in the file shardFor() names, in the order it was enqueued.
  const jobs = ordersOf("customer-7").claimBatch("w", 1000)
    .filter((job) => job.payload.customer === "customer-7");
  console.log(
    `customer-7: ${jobs.length} orders in ${shardFor("customer-7", FILES)}, in order: ${
      jobs.every((job, i) => i === 0 || job.payload.n > jobs[i - 1].payload.n)
    }`,
  );
} finally {
  for (const db of shards.values()) db.close();
  rmSync(dir, { recursive: true, force: true });
}
