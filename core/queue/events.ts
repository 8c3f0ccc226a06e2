/**
 * Job events (`queue.events()`): what happened to a queue's jobs, in commit order, from any
 * process, honker's included (`events_sql.ts` says which writes record what). Each event's id is
 * its offset: a consumer that saves the last id it handled and starts again with `since` misses
 * none (within the retention, `retention.jobEventsS`).
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { parseJson } from "../db/json.ts";
import { abortableIterator } from "../wait/abortable.ts";
import { idlePollMs, SLEEP_CAP_MS, waitLoop } from "../wait/wait_loop.ts";
import { requireCount, requireInteger, requireOptions } from "../db/validate.ts";
import { JOB_EVENT_LAST_OF_JOB, JOB_EVENTS_LAST_ID, JOB_EVENTS_READ } from "./events_sql.ts";

/**
 * What happened to a job: `enqueued`; `active` (claimed, also again after a visibility timeout);
 * `progress` (`job.progress()`); `failed` (an attempt threw or was retried or failed with an
 * error; honker-ts only); `retried` (back to pending); `completed` (acked); `dead` (moved to the
 * dead letters); `cancelled` (deleted before it completed).
 */
export type JobEventType =
  | "enqueued"
  | "active"
  | "progress"
  | "failed"
  | "retried"
  | "completed"
  | "dead"
  | "cancelled";

/** What an event carries besides its type; which fields are set depends on the type. */
export interface JobEventData {
  /** `enqueued`, `retried`: unix seconds the job is due. */
  runAt?: number;
  /** `enqueued`: its priority. */
  priority?: number;
  /** `active`: the worker that claimed it. */
  workerId?: string;
  /** `progress`: the value given to `job.progress()`. */
  progress?: unknown;
  /** `completed`: the handler's return value, when work() stored one. */
  result?: unknown;
  /** `failed`, `dead`: the error. */
  error?: string | null;
}

/** One job event. */
export interface JobEvent {
  /** Its offset: ascending in commit order; pass the last one handled as `since` to resume. */
  id: number;
  /** The queue. */
  queue: string;
  /** The job. */
  jobId: number;
  /** What happened. */
  type: JobEventType;
  /** The job's attempts at that moment (claims so far). */
  attempt: number;
  /** Unix seconds it was recorded. */
  createdAt: number;
  /** The details (see JobEventData), `{}` when there are none. */
  data: JobEventData;
}

/** Options for `queue.events()`. */
export interface JobEventsOptions {
  /**
   * Yield the events after this id (0: every event still kept). Defaults to the newest id now:
   * only events recorded from now on.
   */
  since?: number;
  /** Events read per query. Defaults to 256. */
  batchSize?: number;
  /**
   * Milliseconds between reads when no wake arrives (at least 1); null waits for wakes only.
   * Defaults to 5000.
   */
  idlePollMs?: number | null;
  /** Ends the iteration. */
  signal?: AbortSignal;
}

/** Every key of `JobEventsOptions`. */
export const JOB_EVENTS_OPTION_KEYS: readonly (keyof JobEventsOptions)[] = [
  "since",
  "batchSize",
  "idlePollMs",
  "signal",
];

/** An event row as stored. */
interface EventRow {
  [column: string]: string | number | null;
  id: number;
  queue: string;
  job_id: number;
  type: string;
  data: string | null;
  attempt: number;
  created_at: number;
}

function toEvent(row: EventRow): JobEvent {
  return {
    id: row.id,
    queue: row.queue,
    jobId: row.job_id,
    type: row.type as JobEventType,
    attempt: row.attempt,
    createdAt: row.created_at,
    data: row.data === null ? {} : parseJson<JobEventData>(row.data),
  };
}

/**
 * Up to `limit` events of `queue` after `afterId`, and `next`: where the next read may start
 * once these are handled (past other queues' events when this read had all of the queue's).
 */
export function readJobEvents(
  driver: SqliteDriver,
  queue: string,
  afterId: number,
  limit: number,
): { events: JobEvent[]; next: number } {
  type Row = Omit<EventRow, "id"> & { id: number | null; top: number };
  const rows = driver.all<Row>(JOB_EVENTS_READ, [afterId, queue, limit]);
  const events = rows.filter((row) => row.id !== null).map((row) =>
    toEvent(row as unknown as EventRow)
  );
  const lastId = events.at(-1)?.id ?? afterId;
  const next = events.length < limit ? Math.max(lastId, Number(rows[0]?.top ?? 0)) : lastId;
  return { events, next };
}

/** The newest event of a job in `queue`, or undefined. */
export function lastJobEvent(
  driver: SqliteDriver,
  queue: string,
  jobId: number,
): JobEvent | undefined {
  const row = driver.get<EventRow>(JOB_EVENT_LAST_OF_JOB, [queue, jobId]);
  return row === undefined ? undefined : toEvent(row);
}

/**
 * The events of `queue` as an async iterator, woken by commits of any process (this process's
 * claims and acks included) and by the idle poll.
 */
export function jobEvents(
  ctx: DatabaseContext,
  queue: string,
  options: JobEventsOptions | undefined,
  action: string,
): AsyncIterableIterator<JobEvent> {
  const opts = requireOptions(options, action, JOB_EVENTS_OPTION_KEYS);
  const batchSize = requireCount(opts.batchSize ?? 256, "batchSize", action);
  const idleMs = Math.min(idlePollMs(opts.idlePollMs, action), SLEEP_CAP_MS);
  const driver = ctx.open(action);
  // Where the next read starts: past every event handed out, and past other queues' events.
  let position = opts.since === undefined
    ? Number(driver.get<{ id: number }>(JOB_EVENTS_LAST_ID)?.id ?? 0)
    : requireInteger(opts.since, "since", action, 0);
  let buffer: JobEvent[] = [];
  let next = 0;
  return abortableIterator<JobEvent>((signal) => {
    if (next < buffer.length && !signal.aborted) return buffer[next++];
    return waitLoop(ctx.waker, () => {
      const page = readJobEvents(ctx.open(action), queue, position, batchSize);
      position = page.next;
      return page.events.length > 0 ? page.events : undefined;
    }, { signal, sleepMs: () => idleMs, quiet: true }).then((page) => {
      if (page === undefined) return undefined;
      buffer = page;
      next = 1;
      return page[0];
    });
  }, { signal: opts.signal });
}
