/**
 * `queue.jobs()`: one page of a queue's jobs in one state, in stable id order, for dashboards
 * and operators (BullMQ's `getJobs`, pg-boss's and River's job lists).
 *
 * @module
 */

import type { SqliteDriver } from "../db/driver.ts";
import { parseJson } from "../db/json.ts";
import { validateForRead } from "../db/standard_schema.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";
import { requireCount, requireInteger, requireOptions } from "../db/validate.ts";
import { JOB_LIST } from "./controls_sql.ts";
import type { DeadJob } from "./dead_letters.ts";
import { toJobInfo } from "./ops.ts";
import type { JobRow } from "./job_rows.ts";
import type { JobInfo } from "./types.ts";

/** Jobs one page lists when no `limit` is given. */
export const JOBS_LIMIT_DEFAULT = 100;
/** The most jobs one page may list. */
export const JOBS_LIMIT_MAX = 1000;

/**
 * A state `jobs()` lists: `pending` (due now), `scheduled` (pending, due later), `processing`
 * (claimed), `dead` (the dead letters), or `all` of them.
 */
export type JobListState = "pending" | "scheduled" | "processing" | "dead" | "all";

const STATES: readonly JobListState[] = ["pending", "scheduled", "processing", "dead", "all"];

/** Options for `queue.jobs()`. */
export interface JobsOptions {
  /** Which jobs. Defaults to `all`. */
  state?: JobListState;
  /** At most this many jobs (1 to 1000). Defaults to 100. */
  limit?: number;
  /** Only jobs with a larger id: pass the last id of the previous page. Defaults to 0. */
  after?: number;
}

/** Every key of `JobsOptions`. */
export const JOBS_OPTION_KEYS: readonly (keyof JobsOptions)[] = ["state", "limit", "after"];

/** A dead job as `jobs()` lists it: the dead letters' fields, with `state: "dead"`. */
export interface DeadJobInfo<In = unknown> extends DeadJob<In> {
  /** Always `dead`. */
  state: "dead";
}

/**
 * A job as `jobs()` lists it: a live job as `getJob()` reports it (payload the schema's output),
 * or a dead one as `deadLetters()` does (payload as stored). `state` tells them apart.
 */
export type ListedJob<T = unknown, In = T> = JobInfo<T> | DeadJobInfo<In>;

interface ListRow extends JobRow {
  last_error: string | null;
  died_at: number | null;
}

interface CheckedOptions {
  state: JobListState;
  limit: number;
  after: number;
}

/** Checks `jobs()` options; throws TypeError/RangeError naming the bad one. */
export function checkJobsOptions(options: JobsOptions | undefined, action: string): CheckedOptions {
  const opts = requireOptions(options, action, JOBS_OPTION_KEYS);
  const state = opts.state ?? "all";
  if (!STATES.includes(state)) {
    throw new TypeError(
      `Cannot ${action}: state must be one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`,
    );
  }
  const limit = requireCount(opts.limit ?? JOBS_LIMIT_DEFAULT, "limit", action);
  if (limit > JOBS_LIMIT_MAX) {
    throw new RangeError(`Cannot ${action}: limit must be at most ${JOBS_LIMIT_MAX}, got ${limit}`);
  }
  const after = requireInteger(opts.after ?? 0, "after", action, 0);
  return { state, limit, after };
}

function deadInfo<In>(row: ListRow): DeadJobInfo<In> {
  return {
    id: row.id,
    queue: row.queue,
    state: "dead",
    payload: parseJson<In>(row.payload),
    priority: row.priority,
    runAt: row.run_at,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
    diedAt: row.died_at ?? 0,
  };
}

/**
 * One page of `queue`'s jobs, oldest id first. Live payloads go through the schema as
 * `getJob()`'s do (a stored payload that no longer matches throws); dead ones are as stored.
 */
export function listJobs<T, In>(
  driver: SqliteDriver,
  queue: string,
  schema: StandardSchemaV1<In, T> | undefined,
  options: CheckedOptions,
  action: string,
): ListedJob<T, In>[] {
  const { state, limit, after } = options;
  const params = state === "all" ? [queue, after, queue, after, limit] : [queue, after, limit];
  return driver.all<ListRow>(JOB_LIST[state], params).map((row): ListedJob<T, In> => {
    if (row.state === "dead") return deadInfo<In>(row);
    const stored = parseJson<unknown>(row.payload);
    const payload = schema === undefined
      ? stored
      : validateForRead(schema, stored, `the payload of job ${row.id}`, action);
    return toJobInfo(row, payload as T);
  });
}
