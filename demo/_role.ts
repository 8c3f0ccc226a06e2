/**
 * What the demo's processes share: the names of the queue, stream and schedule, the business
 * tables, and the small line protocol between `main.ts` and each role script.
 *
 * A role script is started as `<runtime> demo/<role>.ts <db> <name> [args…]`. It prints
 * `ready {json}` once it is working, stops when its stdin closes (so it also stops if `main.ts`
 * dies), prints `done {json}` with what it did, closes the database and exits 0.
 *
 * @module
 */

import process from "node:process";

/** The queue the producer fills and the workers drain. */
export const SHIPMENTS_QUEUE = "shipments";
/** The stream the producer publishes every order to. */
export const ORDERS_TOPIC = "orders";
/** The stream consumer's durable name. */
export const AUDIT_CONSUMER = "audit";
/** The schedule the scheduler ticks, and the queue its fires go to. */
export const HEARTBEAT_SCHEDULE = { name: "heartbeat", queue: "heartbeats", everyS: 2 } as const;

/**
 * The business tables: orders, and one shipped row per handled job. SQLite has one writer at a
 * time, so `shipped.id` grows in commit order and a reader can page through it by id.
 */
export const DEMO_TABLES_DDL = `
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer TEXT NOT NULL,
  total_cents INTEGER NOT NULL,
  placed_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE shipped (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL UNIQUE REFERENCES orders (id),
  job_id INTEGER NOT NULL UNIQUE,
  worker TEXT NOT NULL,
  latency_us INTEGER NOT NULL,
  shipped_at INTEGER NOT NULL DEFAULT (unixepoch())
)`;

/** The payload of a shipment job. */
export interface ShipmentJob {
  orderId: number;
  /** Wall-clock milliseconds (aligned, fractional) just before the job was enqueued. */
  enqueuedAtMs: number;
}

/** The payload of an order event. */
export interface OrderEvent {
  orderId: number;
  customer: string;
  totalCents: number;
}

/** Which runtime runs this process. */
export function runtimeName(): "bun" | "deno" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** The command-line arguments every role gets: the database path and the process's name. */
export function roleArgs(): { path: string; name: string; rest: string[] } {
  const [path, name, ...rest] = process.argv.slice(2);
  if (!path || !name) {
    throw new TypeError("Cannot start a demo role: usage is <role>.ts <db> <name> [args…]");
  }
  return { path, name, rest };
}

/** A signal that aborts when stdin closes: `main.ts` ends it to stop the role, or by dying. */
export function stopWhenStdinCloses(): AbortSignal {
  const stop = new AbortController();
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => stop.abort());
  process.stdin.on("error", () => stop.abort());
  return stop.signal;
}

/** Tells `main.ts` something: `ready` with facts about the process, `done` with its counts. */
export function report(kind: "ready" | "done", info: Record<string, unknown>): void {
  process.stdout.write(`${kind} ${JSON.stringify({ pid: process.pid, ...info })}\n`);
}
