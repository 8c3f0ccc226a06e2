/**
 * What the demo's screen shows, read from the database file itself: every number on screen is a
 * query any process could run, not a message from the workers.
 *
 * @module
 */

import type { Database, Queue, Scheduler, Stream } from "../mod.ts";
import { AUDIT_CONSUMER, HEARTBEAT_SCHEDULE, ORDERS_TOPIC, SHIPMENTS_QUEUE } from "./_role.ts";

const ORDER_COUNT = "SELECT count(*) AS n FROM orders";
const SHIPPED_SINCE =
  "SELECT id, worker, latency_us AS latencyUs FROM shipped WHERE id > ? ORDER BY id";
const STREAM_HEAD = "SELECT max(offset) AS head FROM _honker_stream WHERE topic = ?";
const SCHEDULER_LEADER = "SELECT owner FROM _honker_locks WHERE name = 'honker-scheduler'";

/** Wake latencies in milliseconds. */
export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The state of the demo at one moment. */
export interface Snapshot {
  /** Date.now() when it was read. */
  atMs: number;
  orders: number;
  /** Jobs waiting in the shipments queue (due or not). */
  depth: number;
  /** Jobs claimed by a worker, not yet acked. */
  inFlight: number;
  /** Jobs in the dead letters. */
  dead: number;
  /** Shipped rows, all workers. */
  shipped: number;
  /** Shipped rows per second, over the last second. */
  perS: number;
  /** Shipped rows by worker name. */
  byWorker: Map<string, number>;
  /** Offset of the topic's newest event (0 when none). */
  streamHead: number;
  consumerOffset: number;
  lag: number;
  /** Jobs the heartbeat schedule has enqueued. */
  fires: number;
  /** Unix seconds of the schedule's next boundary. */
  nextFireAt: number;
  /** Lock owner of the scheduler, or null. */
  leader: string | null;
}

/** The p-th percentile of sorted values (nearest rank). */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Reads snapshots, keeping the latencies seen so far and a second of history for the rate. */
export class Monitor {
  #db: Database;
  #shipments: Queue;
  #heartbeats: Queue;
  #orders: Stream;
  #scheduler: Scheduler;
  #lastShippedId = 0;
  #latencies = new Map<string, number[]>();
  #history: Array<{ atMs: number; shipped: number }> = [];

  constructor(db: Database) {
    this.#db = db;
    this.#shipments = db.queue(SHIPMENTS_QUEUE);
    this.#heartbeats = db.queue(HEARTBEAT_SCHEDULE.queue);
    this.#orders = db.stream(ORDERS_TOPIC);
    this.#scheduler = db.scheduler();
  }

  /** Reads the current state. */
  snapshot(): Snapshot {
    const driver = this.#db.driver;
    const atMs = Date.now();
    const jobs = this.#shipments.stats();
    const fired = this.#heartbeats.stats();
    for (
      const row of driver.all<{ id: number; worker: string; latencyUs: number }>(
        SHIPPED_SINCE,
        [this.#lastShippedId],
      )
    ) {
      this.#lastShippedId = row.id;
      const list = this.#latencies.get(row.worker) ?? [];
      list.push(row.latencyUs / 1000);
      this.#latencies.set(row.worker, list);
    }
    const byWorker = new Map([...this.#latencies].map(([w, list]) => [w, list.length]));
    const shipped = [...byWorker.values()].reduce((a, b) => a + b, 0);
    const consumer = this.#orders.consumers().find((c) => c.name === AUDIT_CONSUMER);
    return {
      atMs,
      orders: driver.get<{ n: number }>(ORDER_COUNT)?.n ?? 0,
      depth: jobs.pending + jobs.scheduled,
      inFlight: jobs.processing,
      dead: jobs.dead,
      shipped,
      perS: this.#rate(atMs, shipped),
      byWorker,
      streamHead: driver.get<{ head: number | null }>(STREAM_HEAD, [ORDERS_TOPIC])?.head ?? 0,
      consumerOffset: consumer?.offset ?? 0,
      lag: consumer?.lag ?? 0,
      fires: fired.pending + fired.scheduled + fired.processing + fired.dead,
      nextFireAt: this.#scheduler.soonest(),
      leader: driver.get<{ owner: string }>(SCHEDULER_LEADER)?.owner ?? null,
    };
  }

  #rate(atMs: number, shipped: number): number {
    this.#history.push({ atMs, shipped });
    while (this.#history.length > 2 && atMs - this.#history[1].atMs >= 1000) {
      this.#history.shift();
    }
    const first = this.#history[0];
    const spanMs = atMs - first.atMs;
    return spanMs > 0 ? ((shipped - first.shipped) * 1000) / spanMs : 0;
  }

  /** Wake latencies so far, of one worker or (without a name) of all. */
  latency(worker?: string): Latency {
    const lists = worker === undefined
      ? [...this.#latencies.values()]
      : [this.#latencies.get(worker) ?? []];
    const sorted = Float64Array.from(lists.flat()).sort();
    return {
      n: sorted.length,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.length > 0 ? sorted[sorted.length - 1] : 0,
    };
  }
}
