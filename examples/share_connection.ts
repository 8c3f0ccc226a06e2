/**
 * Sharing the application's own SQLite connection: honker-ts runs on the handle you already
 * have, so your writes and the queue's commit in one transaction. Uses node:sqlite on Node and
 * Deno and bun:sqlite on Bun; the same works with a jsr:@db/sqlite Database via
 * `fromDbSqlite` from `adapters/db_sqlite.ts`.
 *
 *   node examples/share_connection.ts | deno run -A … | bun …
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromDriver } from "../mod.ts";
import type { SqliteDriver } from "../mod.ts";

const dir = mkdtempSync(join(tmpdir(), "honker-ts-share-"));
const path = join(dir, "app.db");

async function appConnection(): Promise<SqliteDriver> {
  if ((globalThis as { Bun?: unknown }).Bun !== undefined) {
    const { Database } = await import("bun:sqlite" as string);
    const { fromBunSqlite } = await import("../adapters/bun_sqlite.ts");
    return fromBunSqlite(new Database(path), { path, ownsHandle: false });
  }
  const { DatabaseSync } = await import("node:sqlite");
  const { fromNodeSqlite } = await import("../adapters/node_sqlite.ts");
  return fromNodeSqlite(new DatabaseSync(path), { path, ownsHandle: false });
}

const driver = await appConnection();
driver.exec("CREATE TABLE IF NOT EXISTS signups (email TEXT PRIMARY KEY)");

const db = fromDriver(driver); // honker-ts on your connection; db.close() leaves it open
const welcome = db.queue<{ email: string }>("welcome-emails");

db.transaction((tx) => {
  tx.run("INSERT INTO signups (email) VALUES (?)", ["ada@example.com"]);
  welcome.enqueue({ email: "ada@example.com" }, { tx });
});

console.log("signups:", driver.all("SELECT email FROM signups").map((row) => row.email));
console.log(`job: ${JSON.stringify(welcome.claimOne("mailer")?.payload)} (via ${driver.name})`);

db.close();
driver.close();
// Retries: a poll worker may still be closing its connection (and its -wal file) just now.
rmSync(dir, { recursive: true, force: true });
