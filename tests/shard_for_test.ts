// examples/shard_for.ts, the routing function of the README's sharding guide: a key always goes
// to the same file, whatever the order of the list, on every runtime; keys spread evenly; adding
// a file moves only the keys the new file wins.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { shardFor } from "../examples/shard_for.ts";

const FILES = ["orders-a.db", "orders-b.db", "orders-c.db", "orders-d.db"];
const KEYS = Array.from({ length: 10_000 }, (_, i) => `customer-${i}`);

describe("shardFor()", () => {
  it("routes a key to the same file every time, whatever the order of the files", () => {
    const reversed = [...FILES].reverse();
    for (const key of KEYS.slice(0, 500)) {
      assert.equal(shardFor(key, FILES), shardFor(key, reversed));
    }
    // Fixed answers: a process on another runtime or release must route the same way.
    assert.deepEqual(
      ["customer-0", "customer-1", "customer-2", "ü-ключ", ""].map((k) => shardFor(k, FILES)),
      ["orders-d.db", "orders-d.db", "orders-d.db", "orders-b.db", "orders-a.db"],
    );
  });

  it("spreads keys evenly over the files", () => {
    const counts = new Map<string, number>();
    for (const key of KEYS) {
      const file = shardFor(key, FILES);
      counts.set(file, (counts.get(file) ?? 0) + 1);
    }
    for (const file of FILES) {
      const share = (counts.get(file) ?? 0) / KEYS.length;
      assert.ok(share > 0.22 && share < 0.28, `${file} holds ${share}`);
    }
  });

  it("moves only the keys a new file wins when one is added", () => {
    const more = [...FILES, "orders-e.db"];
    let moved = 0;
    for (const key of KEYS) {
      const after = shardFor(key, more);
      if (after === shardFor(key, FILES)) continue;
      assert.equal(after, "orders-e.db", `${key} moved between old files`);
      moved++;
    }
    assert.ok(moved > 0.17 * KEYS.length && moved < 0.23 * KEYS.length, `${moved} moved`);
  });

  it("refuses a non-string key and an empty list of files", () => {
    assert.throws(() => shardFor(42 as never, FILES), /Cannot pick a shard: key must be a string/);
    assert.throws(() => shardFor("k", []), /Cannot pick a shard: files must be a non-empty array/);
  });
});
