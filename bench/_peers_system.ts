/**
 * What the peers benchmark measures, as one small interface every queue system implements:
 * honker-ts, the raw SQLite floor, BullMQ (with and without an append-only file) and plainjob.
 * The child process (`_peers_child.ts`) drives a system through it; the system's module is
 * loaded only when asked for, so a Deno or Bun child never imports BullMQ or better-sqlite3.
 *
 * @module
 */

import type { DriverName } from "../adapters/auto.ts";

/** The systems the benchmark compares. */
export type SystemId = "honker" | "floor" | "bullmq" | "bullmq-aof" | "plainjob";

/** Every system, in table column order. */
export const SYSTEMS: readonly SystemId[] = ["honker", "bullmq", "bullmq-aof", "plainjob", "floor"];

/** The systems that are Node libraries: they run on Node only, whatever `--runtimes` says. */
export const NODE_ONLY: readonly SystemId[] = ["bullmq", "bullmq-aof", "plainjob"];

/** The queue (BullMQ queue, plainjob job type) every system uses. */
export const QUEUE = "peers-bench";

/**
 * A job's payload: about 70 bytes like a typical job, plus `t`, the producer's wall clock (Unix
 * ms) when it enqueued the job, 0 when nobody measures its latency, and `w` on warm-up jobs.
 */
export interface Payload {
  to: string;
  template: string;
  t: number;
  w?: 1;
}

/** A payload nobody measures the latency of. */
export const PAYLOAD: Payload = { to: "someone@example.com", template: "welcome", t: 0 };

/** Where a system keeps its jobs. */
export interface SystemPlace {
  /** A fresh SQLite file (honker-ts, floor, plainjob). */
  path: string;
  /** The port of a fresh `redis-server` on localhost (BullMQ). */
  redisPort?: number;
  /** The adapter honker-ts and the floor use; the runtime's default when absent. */
  driver?: DriverName;
}

/** Workers set up but not started, so that connecting is not part of what is timed. */
export interface PreparedWork {
  /** Starts handling jobs. */
  start(): void;
  /** Stops taking jobs; resolves once every job taken is completed. */
  stop(): Promise<void>;
}

/** One queue system, opened in one process. */
export interface PeerSystem {
  /** Adds one job (one transaction, one Redis round trip). */
  add(payload: Payload): void | Promise<unknown>;
  /** Adds the jobs in one call: one transaction, or one pipelined Redis call. */
  addBulk(payloads: Payload[]): void | Promise<unknown>;
  /**
   * Sets up `concurrency` handler slots; each job's handler is an empty async function that
   * calls `onJob(payload)` first. `prefetch` (jobs claimed ahead of the free slots) is
   * honker-ts's alone: only honker-ts runs the cases that set it.
   */
  prepare(
    concurrency: number,
    onJob: (payload: Payload) => void,
    options?: { prefetch?: number },
  ): Promise<PreparedWork>;
  /** SQLite statements run so far, for the systems that count them. */
  statements?(): number;
  /** Starts counting statements from zero. */
  resetStatements?(): void;
  /** Releases the connection. */
  close(): Promise<void>;
}

/** Opens `id` on `place`, loading only that system's module. */
export async function openSystem(id: SystemId, place: SystemPlace): Promise<PeerSystem> {
  switch (id) {
    case "honker":
      return (await import("./_peers_honker.ts")).openHonker(place);
    case "floor":
      return (await import("./_peers_honker.ts")).openFloor(place);
    case "bullmq":
    case "bullmq-aof":
      return (await import("./_peers_bullmq.ts")).openBullmq(place);
    case "plainjob":
      return (await import("./_peers_plainjob.ts")).openPlainjob(place);
    default:
      throw new TypeError(`Cannot run the peers benchmark: unknown system ${JSON.stringify(id)}`);
  }
}
