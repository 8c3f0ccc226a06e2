/**
 * Helpers for the CLI tests: run `cli/main.ts` as a child of the runtime under test (the way the
 * README tells users to run it), and seed the same content into a file through honker-ts or
 * through honker's own extension.
 */

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { openDriver } from "../adapters/auto.ts";
import { Database } from "../mod.ts";
import type { Job } from "../mod.ts";
import { openNodeSqlite } from "../adapters/node_sqlite.ts";
import { openHonkerExt } from "./_honker_ext.ts";
import type { HonkerExt } from "./_honker_ext.ts";
import { runtimeKey } from "./_runtime.ts";
import { collect } from "./_spawn.ts";
import type { ChildResult } from "./_spawn.ts";

/** The CLI's entry file. */
export const CLI_MAIN: string = fileURLToPath(new URL("../cli/main.ts", import.meta.url));

/** Starts the CLI with `args` under this runtime: `node FILE`, `deno run -A FILE`, `bun FILE`. */
export function startCli(args: readonly string[]): ChildProcessWithoutNullStreams {
  const argv = runtimeKey() === "deno" ? ["run", "-A", CLI_MAIN, ...args] : [CLI_MAIN, ...args];
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.COLUMNS; // not a terminal: tables fit 80 columns
  return spawn(process.execPath, argv, { env, stdio: ["pipe", "pipe", "pipe"] });
}

/** Runs the CLI to completion. */
export function cli(args: readonly string[]): Promise<ChildResult> {
  const child = startCli(args);
  child.stdin.end();
  return collect(child);
}

/** Runs the CLI and parses its stdout as JSON, failing with its stderr when it did not exit 0. */
export async function cliJson<T = unknown>(args: readonly string[]): Promise<T> {
  const result = await cli([...args, "--json"]);
  if (result.code !== 0) {
    throw new Error(`honker-ts ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as T;
}

/** Collects a child's stderr and lets a test wait for a line of it. */
export function stderrOf(child: ChildProcessWithoutNullStreams): (match: RegExp) => Promise<void> {
  let text = "";
  const waiters: Array<() => void> = [];
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  return async (match) => {
    const deadline = Date.now() + 20_000;
    while (!match.test(text)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`stderr never matched ${match}: ${JSON.stringify(text)}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  };
}

/**
 * sqlite_master, to show that a command left the schema as it was. honker-ts's own objects
 * (`_honker_ts_*` tables, and triggers named so on honker's tables, which every `open()` creates:
 * the commands that wait or change jobs open the file that way) are left out, so a file written
 * by honker compares with honker's schema.
 */
export async function schemaOf(path: string): Promise<string> {
  const driver = await openNodeSqlite(path, { readOnly: true });
  try {
    return JSON.stringify(
      driver.all(
        "SELECT type, name, tbl_name, sql FROM sqlite_master " +
          "WHERE tbl_name NOT GLOB '_honker_ts_*' AND name NOT GLOB '_honker_ts_*' " +
          "ORDER BY type, name",
      ).map((row) => ({ ...row })),
    );
  } finally {
    driver.close();
  }
}

/** A hash of the database file's bytes. */
export function fileHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** The writes a test makes, by honker-ts or by honker's extension. */
export interface Writer {
  enqueue(
    queue: string,
    payload: unknown,
    options?: { priority?: number; delayS?: number },
  ): number;
  /** Claims the next job of `queue` for `worker`; returns its id. */
  claim(queue: string, worker: string): number;
  fail(id: number, worker: string, error: string): void;
  publish(topic: string, payload: unknown, key?: string): number;
  saveOffset(consumer: string, topic: string, offset: number): void;
  schedule(name: string, queue: string, expr: string, payload: unknown): void;
  notify(channel: string, payload: unknown): void;
  close(): void;
}

function oursWriter(db: Database): Writer {
  const held = new Map<number, Job>();
  return {
    enqueue: (queue, payload, o = {}) => db.queue(queue).enqueue(payload, o),
    claim: (queue, worker) => {
      const job = db.queue(queue).claimOne(worker);
      if (!job) throw new Error(`nothing to claim in ${queue}`);
      held.set(job.id, job);
      return job.id;
    },
    fail: (id, _worker, error) => {
      if (!held.get(id)?.fail(error)) throw new Error(`job ${id} is not held`);
    },
    publish: (topic, payload, key) => db.stream(topic).publish(payload, { key: key ?? null }),
    saveOffset: (consumer, topic, offset) => void db.stream(topic).saveOffset(consumer, offset),
    schedule: (name, queue, schedule, payload) =>
      db.scheduler().add({ name, queue, schedule, payload }),
    notify: (channel, payload) => void db.notify(channel, payload),
    close: () => db.close(),
  };
}

function extWriter(ext: HonkerExt): Writer {
  return {
    enqueue: (queue, payload, o = {}) => ext.enqueue(queue, payload, o),
    claim: (queue, worker) => {
      const [job] = ext.claim(queue, worker, 1);
      if (!job) throw new Error(`nothing to claim in ${queue}`);
      return job.id;
    },
    fail: (id, worker, error) => {
      ext.call("SELECT honker_fail(?, ?, ?)", [id, worker, error]);
    },
    publish: (topic, payload, key) =>
      ext.call<number>("SELECT honker_stream_publish(?, ?, ?)", [
        topic,
        key ?? null,
        JSON.stringify(payload),
      ]),
    saveOffset: (consumer, topic, offset) => {
      ext.call("SELECT honker_stream_save_offset(?, ?, ?)", [consumer, topic, offset]);
    },
    schedule: (name, queue, expr, payload) => {
      ext.call("SELECT honker_scheduler_register(?, ?, ?, ?, 0, NULL)", [
        name,
        queue,
        expr,
        JSON.stringify(payload),
      ]);
    },
    notify: (channel, payload) => {
      ext.call("SELECT notify(?, ?)", [channel, JSON.stringify(payload)]);
    },
    close: () => ext.close(),
  };
}

/** Who writes a test's file. */
export type Source = "honker-ts" | "honker";

/** A writer on `path` (created if missing) through honker-ts or honker's extension. */
export async function openWriter(source: Source, path: string): Promise<Writer> {
  // No watcher: a poll worker's connection could close (and checkpoint) after the test hashed
  // the file, which would look like the CLI had written to it.
  return source === "honker"
    ? extWriter(await openHonkerExt(path))
    : oursWriter(new Database(await openDriver(path), { ownsDriver: true }));
}

/** The ids and offsets `seed()` wrote. */
export interface Seeded {
  dead: number;
  processing: number;
  pending: number;
  scheduled: number;
  thumb: number;
  orders: number[];
  audit: number;
}

/**
 * Writes the fixture every CLI test reads: queue `emails` with one job in each state, queue
 * `thumbs` with one pending job, stream `orders` (3 events, consumer `billing` at the first) and
 * `audit` (1 event), and the schedule `nightly`. Closes the writer, so the file is checkpointed.
 */
export async function seed(source: Source, path: string): Promise<Seeded> {
  const w = await openWriter(source, path);
  try {
    const dead = w.enqueue("emails", { to: "dead@example.com" }, { priority: 10 });
    w.claim("emails", "worker-2");
    w.fail(dead, "worker-2", "SMTP 550: mailbox unavailable");
    const processing = w.enqueue("emails", { to: "b@example.com" }, { priority: 9 });
    w.claim("emails", "worker-1");
    const pending = w.enqueue("emails", { to: "a@example.com" }, { priority: 5 });
    const scheduled = w.enqueue("emails", { to: "later@example.com" }, { delayS: 3600 });
    const thumb = w.enqueue("thumbs", { imageId: 7 });
    const orders = [1, 2, 3].map((id) =>
      w.publish("orders", { id }, id === 2 ? "customer-7" : undefined)
    );
    w.saveOffset("billing", "orders", orders[0]);
    const audit = w.publish("audit", { who: "ada" });
    w.schedule("nightly", "reports", "0 3 * * *", { kind: "daily" });
    return { dead, processing, pending, scheduled, thumb, orders, audit };
  } finally {
    w.close();
  }
}
