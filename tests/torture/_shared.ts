/**
 * What the torture driver (`run.ts`) and its role processes agree on: queue, topic and task
 * names, the tables every role records its work in, and the tuning of the roles.
 *
 * @module
 */

import type { ScheduleSpec } from "../../mod.ts";

/** The queue producers fill and workers drain. */
export const JOBS_QUEUE = "torture-jobs";
/**
 * The queue producers also fill for the batch workers: `work()` itself completes its jobs
 * (batched acks and retries), with events on, so each job's `completed` event and result can be
 * checked.
 */
export const BATCH_QUEUE = "torture-batch-jobs";
/** Slots of a batch worker's `work()`: handlers finishing together share one commit. */
export const BATCH_CONCURRENCY = 8;
/**
 * Jobs a batch worker claims ahead of its free slots (`prefetch`): held claims then meet every
 * fault too — a SIGKILL while held (they come back after the visibility timeout), a stop (given
 * back, pending again) and the locker's hold (renewed while the file is locked).
 */
export const BATCH_PREFETCH = 8;
/** The queue the `@every 1s` schedule enqueues into; nobody drains it, so its rows count fires. */
export const TICKS_QUEUE = "torture-ticks";
/** The stream producers publish to and subscribers walk. */
export const EVENTS_TOPIC = "torture-events";
/** The schedule every scheduler process competes to tick. */
export const TICK_TASK = "torture-every-second";
/** The schedule as every scheduler process (and the driver) adds it at start, like boot code. */
export const TICK_SPEC: ScheduleSpec = {
  name: TICK_TASK,
  queue: TICKS_QUEUE,
  schedule: "@every 1s",
};

/** Claims a job gets before it is dead-lettered. */
export const MAX_ATTEMPTS = 5;
/** Share of handler runs that throw. */
export const THROW_PROBABILITY = 0.05;
/** The message of a subscriber's deliberate failure. */
export const RANDOM_EVENT_FAILURE = "torture: random event handler failure";
/** Handlers take a random 0 to this many ms. */
export const HANDLER_MAX_MS = 20;
/** Scheduler leader lease: short, so leadership changes hands during a run. */
export const SCHEDULER_LEASE_S = 2;
/** The message of a handler's deliberate failure (and so of its dead letters' reason). */
export const RANDOM_FAILURE = "torture: random handler failure";

/**
 * The line a role prints just before it SIGKILLs itself on purpose (a batch worker right after
 * a handler returned, before work() flushed its outcome): the driver restarts it like one it
 * killed.
 */
export const SELF_KILL = "self-kill";
/** The line a batch worker prints once it reads its stdin for a `self-kill` request. */
export const LISTENING = "listening";

/** What every role is opened with. */
export interface RoleTuning {
  /** `open()`'s busyTimeoutMs: longer than the longest write-lock hold. */
  busyTimeoutMs: number;
  /** The jobs queue's visibility timeout: a claim outlives the longest hold. */
  visibilityTimeoutS: number;
}

/** Rates a producer keeps, per second. */
export interface ProducerConfig extends RoleTuning {
  jobRate: number;
  eventRate: number;
  /** Jobs per second into the batch workers' queue. */
  batchJobRate: number;
}

/** How often a batch worker kills itself between a handler's end and work()'s flush. */
export interface BatchWorkerConfig extends RoleTuning {
  /** Per returned handler. */
  selfKillProbability: number;
}

/** How often a subscriber's loop body throws. */
export interface SubscriberConfig extends RoleTuning {
  /** Share of events whose handling throws (before recording it). */
  throwProbability: number;
}

/** How a locker holds the write lock: a random pause, then a random hold, in seconds. */
export interface LockerConfig extends RoleTuning {
  gapMinS: number;
  gapMaxS: number;
  holdMinS: number;
  holdMaxS: number;
}

/** A producer's payload: a unique id and when it was made. */
export interface JobPayload {
  id: string;
  atMs: number;
}

/** An event's payload. */
export interface EventPayload {
  producer: string;
  seq: number;
}

/**
 * The tables the roles record in, each written in the same transaction as the work it records:
 * an enqueue and its `torture_enqueued` row, a publish and its `torture_published` row, an ack
 * and its `torture_acks` row commit together, so the file alone proves what happened.
 */
export const TORTURE_DDL = `
CREATE TABLE torture_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE torture_enqueued (
  payload_id TEXT PRIMARY KEY, job_id INTEGER NOT NULL, producer TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE TABLE torture_published (
  offset INTEGER PRIMARY KEY, producer TEXT NOT NULL, seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE TABLE torture_acks (
  payload_id TEXT NOT NULL, job_id INTEGER NOT NULL, worker TEXT NOT NULL,
  attempts INTEGER NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX torture_acks_payload ON torture_acks (payload_id);
CREATE TABLE torture_throws (job_id INTEGER NOT NULL, worker TEXT NOT NULL, attempt INTEGER NOT NULL);
CREATE TABLE torture_seen (
  subscriber TEXT NOT NULL, pid INTEGER NOT NULL, round INTEGER NOT NULL, offset INTEGER NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE INDEX torture_seen_offset ON torture_seen (subscriber, offset);
CREATE TABLE torture_event_throws (
  subscriber TEXT NOT NULL, pid INTEGER NOT NULL, round INTEGER NOT NULL, offset INTEGER NOT NULL);
CREATE TABLE torture_holds (
  pid INTEGER NOT NULL, started_ms INTEGER NOT NULL, held_ms INTEGER NOT NULL);
CREATE TABLE torture_batch_enqueued (
  payload_id TEXT PRIMARY KEY, job_id INTEGER NOT NULL UNIQUE, producer TEXT NOT NULL,
  at_ms INTEGER NOT NULL);
CREATE TABLE torture_batch_runs (
  job_id INTEGER NOT NULL, worker TEXT NOT NULL, attempt INTEGER NOT NULL,
  started_ms INTEGER NOT NULL, outcome TEXT, ended_ms INTEGER);
CREATE INDEX torture_batch_runs_job ON torture_batch_runs (job_id, attempt);
CREATE TABLE torture_readds (
  pid INTEGER NOT NULL, at_ms INTEGER NOT NULL, now_s INTEGER NOT NULL,
  next_before INTEGER, next_after INTEGER);
`;

/** Params: payloadId, jobId, producer, atMs. */
export const ENQUEUED_INSERT =
  "INSERT INTO torture_enqueued (payload_id, job_id, producer, at_ms) VALUES (?, ?, ?, ?)";
/** Params: offset, producer, seq, atMs. */
export const PUBLISHED_INSERT =
  "INSERT INTO torture_published (offset, producer, seq, at_ms) VALUES (?, ?, ?, ?)";
/** Params: payloadId, jobId, worker, attempts, atMs. */
export const ACK_INSERT =
  "INSERT INTO torture_acks (payload_id, job_id, worker, attempts, at_ms) VALUES (?, ?, ?, ?, ?)";
/** Params: jobId, worker, attempt. */
export const THROW_INSERT = "INSERT INTO torture_throws (job_id, worker, attempt) VALUES (?, ?, ?)";
/** Params: payloadId, jobId, producer, atMs. */
export const BATCH_ENQUEUED_INSERT =
  "INSERT INTO torture_batch_enqueued (payload_id, job_id, producer, at_ms) VALUES (?, ?, ?, ?)";
/** A batch handler started: its own transaction, before the handler's work. Params: jobId, worker, attempt, startedMs. */
export const BATCH_RUN_INSERT =
  "INSERT INTO torture_batch_runs (job_id, worker, attempt, started_ms) VALUES (?, ?, ?, ?)";
/**
 * A batch handler is about to return (`returned`) or throw (`threw`): its own transaction, so
 * it commits even when the outcome work() then batches never does. Params: outcome, endedMs,
 * jobId, attempt, worker.
 */
export const BATCH_RUN_END = `UPDATE torture_batch_runs SET outcome = ?, ended_ms = ?
  WHERE job_id = ? AND attempt = ? AND worker = ?`;
/** What a batch handler returns: the job's result, naming the run that completed it. */
export interface BatchResult {
  payloadId: string;
  attempt: number;
  worker: string;
}
/** Params: subscriber, pid, round, offset, atMs. */
export const SEEN_INSERT =
  "INSERT INTO torture_seen (subscriber, pid, round, offset, at_ms) VALUES (?, ?, ?, ?, ?)";
/** Params: subscriber, pid, round, offset. */
export const EVENT_THROW_INSERT =
  "INSERT INTO torture_event_throws (subscriber, pid, round, offset) VALUES (?, ?, ?, ?)";
/** Params: pid, startedMs, heldMs. Written inside the hold, so a hold killed midway leaves none. */
export const HOLD_INSERT = "INSERT INTO torture_holds (pid, started_ms, held_ms) VALUES (?, ?, ?)";
/** Params: pid, atMs, nowS, nextBefore, nextAfter. */
export const READD_INSERT = `INSERT INTO torture_readds (pid, at_ms, now_s, next_before, next_after)
  VALUES (?, ?, ?, ?, ?)`;
/** The tick task's next boundary (null when it is not registered) and SQLite's now, in s. */
export const TICK_NEXT_SELECT = `SELECT
  (SELECT next_fire_at FROM _honker_scheduler_tasks WHERE name = ?) AS next,
  CAST(strftime('%s', 'now') AS INTEGER) AS now`;
/** Params: key, value. */
export const META_SET = "INSERT OR REPLACE INTO torture_meta (key, value) VALUES (?, ?)";
