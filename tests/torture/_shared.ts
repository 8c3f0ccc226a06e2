/**
 * What the torture driver (`run.ts`) and its role processes agree on: queue, topic and task
 * names, the tables every role records its work in, and the tuning of the roles.
 *
 * @module
 */

/** The queue producers fill and workers drain. */
export const JOBS_QUEUE = "torture-jobs";
/** The queue the `@every 1s` schedule enqueues into; nobody drains it, so its rows count fires. */
export const TICKS_QUEUE = "torture-ticks";
/** The stream producers publish to and subscribers walk. */
export const EVENTS_TOPIC = "torture-events";
/** The schedule every scheduler process competes to tick. */
export const TICK_TASK = "torture-every-second";

/** Short, so a job whose worker was SIGKILLed is redelivered within seconds. */
export const VISIBILITY_TIMEOUT_S = 3;
/** Claims a job gets before it is dead-lettered. */
export const MAX_ATTEMPTS = 5;
/** Share of handler runs that throw. */
export const THROW_PROBABILITY = 0.05;
/** Handlers take a random 0 to this many ms. */
export const HANDLER_MAX_MS = 20;
/** Scheduler leader lease: short, so leadership changes hands during a run. */
export const SCHEDULER_LEASE_S = 2;
/** The message of a handler's deliberate failure (and so of its dead letters' reason). */
export const RANDOM_FAILURE = "torture: random handler failure";

/** Rates a producer keeps, per second. */
export interface ProducerConfig {
  jobRate: number;
  eventRate: number;
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
  subscriber TEXT NOT NULL, pid INTEGER NOT NULL, offset INTEGER NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX torture_seen_offset ON torture_seen (subscriber, offset);
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
/** Params: subscriber, pid, offset, atMs. */
export const SEEN_INSERT =
  "INSERT INTO torture_seen (subscriber, pid, offset, at_ms) VALUES (?, ?, ?, ?)";
/** Params: key, value. */
export const META_SET = "INSERT OR REPLACE INTO torture_meta (key, value) VALUES (?, ?)";
