/**
 * A SQL trigger calling `notify()`: every order insert, from any code path, reaches listeners
 * after it commits. (On Bun, bun:sqlite cannot run SQL inside a SQL function, so this opens
 * node:sqlite, which Bun also has.)
 *
 *   node examples/notify_trigger.ts | deno run -A … | bun …
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-notify-"));
const db = await open(join(dir, "app.db"), { driver: "node-sqlite" });

db.driver.exec(`
  CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
  CREATE TRIGGER orders_notify AFTER INSERT ON orders BEGIN
    SELECT notify('orders', json_object('id', NEW.id, 'email', NEW.email));
  END;
`);

const stop = new AbortController();
const received = (async () => {
  const seen: unknown[] = [];
  // The type parameter is not checked (the trigger is the only sender); `{ schema }` would be.
  for await (
    const n of db.listen<{ id: number; email: string }>("orders", { signal: stop.signal })
  ) {
    console.log(`notification ${n.id} on "${n.channel}":`, n.payload);
    seen.push(n.payload);
    if (seen.length === 2) stop.abort();
  }
  return seen;
})();

db.transaction((tx) =>
  tx.run("INSERT INTO orders (id, email) VALUES (?, ?)", [1, "ada@example.com"])
);
try {
  db.transaction((tx) => {
    tx.run("INSERT INTO orders (id, email) VALUES (?, ?)", [2, "nobody@example.com"]);
    throw new Error("rolled back: no notification is sent");
  });
} catch (error) {
  console.log((error as Error).message);
}
db.transaction((tx) =>
  tx.run("INSERT INTO orders (id, email) VALUES (?, ?)", [3, "grace@example.com"])
);

console.log(`received ${(await received).length} notifications`);
db.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
