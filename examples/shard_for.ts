/**
 * `shardFor(key, files)`: which file of a sharded set owns a key, by rendezvous hashing — every
 * file scores the key, the highest score wins. The same key always goes to the same file; the
 * answer depends on the files' names, not their order; and adding a file moves only the keys it
 * now wins (about 1 in n + 1), so resharding copies a fraction of the data, not all of it.
 *
 * @module
 */

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so close inputs spread apart. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The file (of `files`, by name) that owns `key`.
 *
 * @example Route an order by customer
 * ```ts ignore
 * const files = ["orders-a.db", "orders-b.db", "orders-c.db"];
 * const db = shards.get(shardFor(order.customerId, files))!;
 * db.queue("orders").enqueue(order);
 * ```
 */
export function shardFor<F extends string>(key: string, files: readonly F[]): F {
  if (typeof key !== "string") {
    throw new TypeError(`Cannot pick a shard: key must be a string, got ${typeof key}`);
  }
  if (!Array.isArray(files) || files.length === 0) {
    throw new RangeError("Cannot pick a shard: files must be a non-empty array of names");
  }
  let best = files[0];
  let bestScore = -1;
  for (const file of files) {
    const score = hash32(`${file}\u0000${key}`);
    if (score > bestScore || (score === bestScore && file < best)) {
      best = file;
      bestScore = score;
    }
  }
  return best;
}
