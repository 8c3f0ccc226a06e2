/**
 * honker's real loadable extension on a second node:sqlite connection, for interop tests.
 *
 * The package installed as a devDependency is linux-x64-gnu only. `honkerExtSkip()` says why the
 * extension cannot be used here (other platform, package missing, a runtime that cannot load
 * extensions), so interop tests register as `skip` with that reason, never as a silent pass.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { arch, platform } from "node:os";
import { dirname, join } from "node:path";
import { fromDriver } from "../mod.ts";
import type { Database, SqliteDriver } from "../mod.ts";
import type { DriverEntry } from "./_drivers.ts";
import { tempDbPath } from "./_helpers.ts";

/** A value bound to the extension's connection. */
export type ExtParam = null | number | bigint | string | Uint8Array;

interface StatementLike {
  all(...params: ExtParam[]): unknown[];
  get(...params: ExtParam[]): Record<string, unknown> | undefined;
}

/** The part of a node:sqlite connection the extension's users call. */
export interface ExtDatabaseLike {
  prepare(sql: string): StatementLike;
  exec(sql: string): void;
  loadExtension(path: string): void;
  close(): void;
}

interface NodeSqliteLike {
  DatabaseSync: new (
    path: string,
    options: { allowExtension: boolean; timeout: number },
  ) => ExtDatabaseLike;
}

const here = import.meta.dirname ?? dirname(decodeURIComponent(new URL(import.meta.url).pathname));

/** Where npm puts honker's extension for linux x64 (glibc). */
export const HONKER_EXT_PATH: string = join(
  here,
  "..",
  "node_modules",
  "@russellthehippo",
  "honker-ext-linux-x64-gnu",
  "libhonker_ext.so",
);

// honker's own pragma block (spec §1.1), written out here rather than imported from core/ so the
// honker side of an interop test owes nothing to honker-ts.
const HONKER_PRAGMAS = `PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
  PRAGMA foreign_keys = ON; PRAGMA cache_size = -32000; PRAGMA temp_store = MEMORY;
  PRAGMA wal_autocheckpoint = 10000;`;

/** An element of `honker_claim_batch`'s array (payload is the stored JSON text). */
export interface ExtClaim {
  id: number;
  queue: string;
  payload: string;
  worker_id: string;
  attempts: number;
  claim_expires_at: number;
}

/** `honker_get_job`'s object. */
export interface ExtJob extends Omit<ExtClaim, "worker_id" | "claim_expires_at"> {
  state: string;
  priority: number;
  run_at: number;
  worker_id: string | null;
  claim_expires_at: number | null;
  max_attempts: number;
  created_at: number;
  expires_at: number | null;
}

/** The optional arguments of `honker_enqueue`. */
export interface ExtTiming {
  runAt?: number;
  delayS?: number;
  priority?: number;
  maxAttempts?: number;
  expiresS?: number;
}

/** A connection with honker's extension loaded. */
export interface HonkerExt {
  /** `honker_enqueue`, JSON-encoding the payload as honker's bindings do; returns the id. */
  enqueue(queue: string, payload: unknown, timing?: ExtTiming): number;
  /** `honker_claim_batch`, sorted by id (honker returns UPDATE … RETURNING order). */
  claim(queue: string, workerId: string, n: number, timeoutS?: number): ExtClaim[];
  /** `honker_get_job`, or null when the job is not live. */
  getJob(id: number): ExtJob | null;
  /** The `_honker_dead` row with this id, as stored. */
  deadRow(id: number): Record<string, unknown> | undefined;
  /** SQLite's `unixepoch()`. */
  now(): number;
  /** The first column of the first row, or null when there is no row. */
  call<T = unknown>(sql: string, params?: readonly ExtParam[]): T;
  /** `call()` parsed as JSON; honker's empty-string "not found" becomes null. */
  json<T = unknown>(sql: string, params?: readonly ExtParam[]): T;
  /** Every row, as plain objects. */
  rows<T = Record<string, unknown>>(sql: string, params?: readonly ExtParam[]): T[];
  /** Runs SQL without parameters. */
  exec(sql: string): void;
  /** Closes the connection. */
  close(): void;
}

// node:sqlite binds every JS number as REAL; honker's bindings send integers as INTEGER.
function bind(params: readonly ExtParam[]): ExtParam[] {
  return params.map((v) => typeof v === "number" && Number.isSafeInteger(v) ? BigInt(v) : v);
}

/** Opens `path` on a new node:sqlite connection and loads honker's extension into it. */
export async function loadHonkerExt(path: string): Promise<ExtDatabaseLike> {
  const { DatabaseSync } = (await import("node:sqlite")) as unknown as NodeSqliteLike;
  const db = new DatabaseSync(path, { allowExtension: true, timeout: 5000 });
  try {
    db.loadExtension(HONKER_EXT_PATH);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Opens `path` on a new node:sqlite connection, loads honker's extension, applies honker's
 * pragmas and (by default) runs `honker_bootstrap()`, as honker's Bun binding does.
 */
export async function openHonkerExt(
  path: string,
  options: { bootstrap?: boolean } = {},
): Promise<HonkerExt> {
  const db = await loadHonkerExt(path);
  try {
    db.exec(HONKER_PRAGMAS);
    if (options.bootstrap ?? true) db.prepare("SELECT honker_bootstrap()").all();
  } catch (error) {
    db.close();
    throw error;
  }
  const rows = <T>(sql: string, params: readonly ExtParam[] = []): T[] =>
    db.prepare(sql).all(...bind(params)).map((row) => ({ ...(row as object) }) as T);
  const call = <T>(sql: string, params?: readonly ExtParam[]): T => {
    const [row] = rows<Record<string, unknown>>(sql, params);
    return (row === undefined ? null : Object.values(row)[0]) as T;
  };
  const json = <T>(sql: string, params?: readonly ExtParam[]): T => {
    const text = call<string | null>(sql, params);
    return (text === null || text === "" ? null : JSON.parse(text)) as T;
  };
  return {
    enqueue: (queue, payload, t = {}) =>
      call("SELECT honker_enqueue(?, ?, ?, ?, ?, ?, ?)", [
        queue,
        JSON.stringify(payload),
        t.runAt ?? null,
        t.delayS ?? null,
        t.priority ?? 0,
        t.maxAttempts ?? 3,
        t.expiresS ?? null,
      ]),
    claim: (queue, workerId, n, timeoutS = 60) =>
      json<ExtClaim[]>("SELECT honker_claim_batch(?, ?, ?, ?)", [queue, workerId, n, timeoutS])
        .sort((a, b) => a.id - b.id),
    getJob: (id) => json<ExtJob | null>("SELECT honker_get_job(?)", [id]),
    deadRow: (id) =>
      rows<Record<string, unknown>>("SELECT * FROM _honker_dead WHERE id = ?", [id])[0],
    now: () => call<number>("SELECT unixepoch()"),
    call,
    json,
    rows,
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
}

/**
 * Payloads both sides must carry unchanged: a string (stored with its quotes), nesting, unicode
 * beyond the BMP, an array, a number, null.
 */
export const PAYLOADS: readonly unknown[] = [
  'a "quoted" string',
  { nested: { list: [1, 2.5, { deep: null }], flag: true }, n: -7 },
  { text: "héllo ✓ 日本語 🦆", "ключ": "значение", who: "👩‍💻" },
  [1, "two", [3]],
  42,
  null,
];

/** Asserts that `actual` is a unix time within 1 s of `expected` (the two sides' clocks tick apart). */
export function near(actual: unknown, expected: number, what: string): void {
  assert.ok(
    typeof actual === "number" && Math.abs(actual - expected) <= 1,
    `${what}: ${actual} is not within 1 s of ${expected}`,
  );
}

/**
 * `ours` with every unix time that is within 1 s of the one at the same place in `theirs` made
 * equal to it, so that `deepEqual(alignTimes(ours, theirs), theirs)` ignores clock ticks only.
 */
export function alignTimes(ours: unknown, theirs: unknown): unknown {
  if (typeof ours === "number" && typeof theirs === "number") {
    return ours > 1e9 && Math.abs(ours - theirs) <= 1 ? theirs : ours;
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    return ours.map((v, i) => alignTimes(v, theirs[i]));
  }
  if (ours && theirs && typeof ours === "object" && typeof theirs === "object") {
    const t = theirs as Record<string, unknown>;
    return Object.fromEntries(Object.entries(ours).map(([k, v]) => [k, alignTimes(v, t[k])]));
  }
  return ours;
}

/** honker's tables (spec §1.2, §1.4) with their columns in order (spec §9 item 71). */
export const HONKER_TABLE_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  _honker_dead: [
    ...["id", "queue", "payload", "priority", "run_at", "attempts", "max_attempts"],
    ...["last_error", "created_at", "died_at"],
  ],
  _honker_live: [
    ...["id", "queue", "payload", "state", "priority", "run_at", "worker_id"],
    ...["claim_expires_at", "attempts", "max_attempts", "created_at", "expires_at"],
  ],
  _honker_locks: ["name", "owner", "expires_at"],
  _honker_notifications: ["id", "channel", "payload", "created_at"],
  _honker_rate_limits: ["name", "window_start", "count"],
  _honker_results: ["job_id", "value", "created_at", "expires_at"],
  _honker_scheduler_tasks: [
    ...["name", "queue", "cron_expr", "payload", "priority", "expires_s", "next_fire_at"],
    ...["enabled", "max_attempts"],
  ],
  _honker_stream: ["offset", "topic", "key", "payload", "created_at"],
  _honker_stream_consumers: ["name", "topic", "offset"],
};

let probed: Promise<string | undefined> | undefined;

/** Why honker's extension cannot be used on this machine and runtime, or undefined if it can. */
export function honkerExtSkip(): Promise<string | undefined> {
  probed ??= probe();
  return probed;
}

/** Why honker's extension package cannot be here (other platform, not installed), or undefined. */
export function extPlatformSkip(): string | undefined {
  if (platform() !== "linux" || arch() !== "x64") {
    return `honker's extension package is linux-x64-gnu only (this is ${platform()}-${arch()})`;
  }
  if (!existsSync(HONKER_EXT_PATH)) {
    return `honker's extension is not installed at ${HONKER_EXT_PATH}`;
  }
  return undefined;
}

async function probe(): Promise<string | undefined> {
  const skip = extPlatformSkip();
  if (skip) return skip;
  try {
    (await openHonkerExt(tempDbPath("probe.db"))).close();
    return undefined;
  } catch (error) {
    return `honker's extension cannot be loaded on this runtime: ${(error as Error).message}`;
  }
}

/** A test body given honker-ts, honker's extension and the honker-ts side's driver. */
export type PairBody = (db: Database, ext: HonkerExt, driver: SqliteDriver) => void | Promise<void>;

/**
 * Runs `body` with honker-ts (opened first) and honker's extension on one fresh file, or with
 * `apart` on two fresh files.
 */
export function withPair(entry: DriverEntry, body: PairBody, apart = false): () => Promise<void> {
  return async () => {
    const path = tempDbPath();
    const driver = await entry.open(path);
    const db = fromDriver(driver);
    let ext: HonkerExt | undefined;
    try {
      ext = await openHonkerExt(apart ? tempDbPath() : path);
      await body(db, ext, driver);
    } finally {
      ext?.close();
      db.close();
      driver.close();
    }
  };
}

/** Why the entry's driver does not get our SQL functions, found by opening it once. */
export async function functionsSkip(entry: DriverEntry): Promise<string | undefined> {
  let driver: SqliteDriver;
  try {
    driver = await entry.open(tempDbPath());
  } catch {
    return undefined; // the test itself then fails on open, visibly
  }
  const registers = typeof driver.function === "function" && driver.reentrantFunctions !== false;
  driver.close();
  return registers
    ? undefined
    : `${driver.name} does not register honker's SQL functions (reentrantFunctions is false)`;
}
