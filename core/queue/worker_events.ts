/**
 * The events a Worker dispatches, and their details: what a listener on `worker` receives.
 *
 * @module
 */

import type { Job } from "./job.ts";
import type { WorkResult } from "./work_types.ts";

/** The detail of a worker's `completed` event. */
export interface WorkerCompleted<T> {
  /** The job, acked. */
  job: Job<T>;
  /** What the handler returned. */
  value: unknown;
}

/** The detail of a worker's `failed` event. */
export interface WorkerFailed<T> {
  /** The job whose attempt failed. */
  job: Job<T>;
  /** What the handler threw (a JobTimeoutError past `timeoutS`); undefined when it retried or failed the job itself. */
  error: unknown;
  /** True when the job went to the dead letters, false when it will be retried. */
  dead: boolean;
}

/** A worker's events, each a `CustomEvent` whose `detail` is typed here. */
export interface WorkerEventMap<T> {
  /** A job's ack committed. */
  completed: CustomEvent<WorkerCompleted<T>>;
  /** A failed attempt committed, as a retry or a dead letter. */
  failed: CustomEvent<WorkerFailed<T>>;
  /** A job's claim was lost before its outcome committed (expired and taken, or cancelled). */
  lost: CustomEvent<{ job: Job<T> }>;
  /** An error of the worker itself (not of a handler): the database refused a write. */
  error: CustomEvent<{ error: unknown }>;
  /** A claim found nothing more due: every waiting job has been handed out, none held (once per stretch of work). */
  drained: CustomEvent<null>;
  /** `pause()` stopped claiming. */
  paused: CustomEvent<null>;
  /** `resume()` started claiming again. */
  resumed: CustomEvent<null>;
  /** The worker has stopped: every outcome committed, every abandoned job given back. */
  closed: CustomEvent<WorkResult>;
}
