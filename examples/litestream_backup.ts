/**
 * Continuous backup with Litestream, as docs/backup.md runs it: Litestream starts the worker
 * (`litestream replicate -exec …`) and replicates the file while the worker acks 100 jobs; a
 * SIGTERM to Litestream stops the worker, ships the last frames and exits; the file restored
 * from the replica is checked and opened with honker-ts.
 *
 *   node examples/litestream_backup.ts | deno run -A … | bun …
 *
 * Needs the litestream binary (0.3.x): `LITESTREAM_BIN`, else the one the `@flydotio/litestream`
 * npm package installs, else `litestream` on PATH.
 */

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { open } from "../mod.ts";

const JOBS = 100;

/**
 * The Litestream binary itself. Not `node_modules/.bin/litestream`: that is a Node wrapper that
 * does not pass signals on, so stopping it would leave Litestream running.
 */
function litestreamBinary(): string {
  if (process.env.LITESTREAM_BIN) return process.env.LITESTREAM_BIN;
  const npm = fileURLToPath(
    new URL(
      `../node_modules/@flydotio/litestream-${process.platform}-${process.arch}/litestream`,
      import.meta.url,
    ),
  );
  return existsSync(npm) ? npm : "litestream";
}

/** This script's command line on the runtime running it, quoted for Litestream's -exec. */
function selfCommand(args: readonly string[]): string {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  const runtimeArgs = g.Deno ? ["run", "-A"] : g.Bun ? [] : ["--no-warnings"];
  const argv = [process.execPath, ...runtimeArgs, fileURLToPath(import.meta.url), ...args];
  return argv.map((arg) => `'${arg}'`).join(" ");
}

/** The application's worker: writes its side effect and acks in one transaction, until SIGTERM. */
async function worker(path: string): Promise<void> {
  const db = await open(path);
  const stop = new AbortController();
  process.on("SIGTERM", () => stop.abort());
  await db.queue<{ orderId: number }>("receipts").work((job) => {
    db.transaction((tx) => {
      tx.run("INSERT INTO receipts (order_id, sent_at) VALUES (?, unixepoch())", [
        job.payload.orderId,
      ]);
      job.ack();
    });
  }, { concurrency: 4, signal: stop.signal });
  db.close();
  console.log("worker: stopped by SIGTERM (passed on by Litestream)");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The operator's side: run the worker under Litestream, then restore and check the copy. */
async function backupAndRestore(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "honker-ts-litestream-"));
  const path = join(dir, "app.db");
  const replica = join(dir, "replica");
  const config = join(dir, "litestream.yml");
  writeFileSync(
    config,
    `logging:
  level: warn
dbs:
  - path: ${path}
    replicas:
      - type: file
        path: ${replica}
        sync-interval: 1s
`,
  );
  // The file exists (WAL mode, honker's schema) before Litestream starts watching it.
  const app = await open(path);
  app.driver.exec(
    "CREATE TABLE IF NOT EXISTS receipts (order_id INTEGER PRIMARY KEY, sent_at INTEGER NOT NULL)",
  );
  app.queue("receipts").enqueueMany(Array.from({ length: JOBS }, (_, i) => ({ orderId: i + 1 })));

  // Litestream starts the worker, passes a SIGTERM on to it, and exits when it does, after
  // shipping the last frames to the replica.
  const bin = litestreamBinary();
  const litestream = spawn(bin, [
    "replicate",
    "-config",
    config,
    "-exec",
    selfCommand(["--worker", path]),
  ], { stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise<void>((resolve, reject) => {
    litestream.on("error", reject);
    litestream.on("exit", () => resolve());
  });
  const sent = () => Number(app.driver.get<{ n: number }>("SELECT count(*) AS n FROM receipts")?.n);
  // Done: every job handled, and Litestream has taken its first snapshot.
  for (let t = 0; sent() < JOBS || !existsSync(join(replica, "generations")); t++) {
    if (t > 300) throw new Error("the worker or Litestream did not get going within 30 s");
    await sleep(100);
  }
  app.close();
  litestream.kill("SIGTERM");
  await exited;

  // Restore to a new path (never over a live file), check it, open it.
  const restored = join(dir, "restored.db");
  execFileSync(bin, ["restore", "-config", config, "-o", restored, path]);
  const db = await open(restored);
  const integrity = db.driver.get<{ integrity_check: string }>("PRAGMA integrity_check");
  const receipts = db.driver.get<{ n: number }>("SELECT count(*) AS n FROM receipts")?.n;
  const left = db.queue("receipts").stats().pending;
  console.log(
    `restored copy: integrity ${integrity?.integrity_check}, ${receipts} receipts, ${left} jobs left`,
  );
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

const at = process.argv.indexOf("--worker");
if (at >= 0) await worker(process.argv[at + 1]);
else await backupAndRestore();
