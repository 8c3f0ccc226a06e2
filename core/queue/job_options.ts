/**
 * A job's own run options, given at enqueue and kept in `_honker_ts_job_options`: its timeout
 * per attempt (`timeoutS`) and its retry backoff. They win over the worker's.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { requireTimeoutS } from "./work_timeout.ts";
import { backoffText, parseBackoff, requireBackoff } from "./backoff.ts";
import type { Backoff, BackoffOptions } from "./backoff.ts";
import { JOB_OPTIONS_GET_MANY, JOB_OPTIONS_INSERT } from "./job_options_sql.ts";

/** The run options `enqueue()` takes besides honker's own. */
export interface JobRunOptionsInput {
  /** Seconds one attempt may run; then its signal aborts and the attempt counts as failed. */
  timeoutS?: number;
  /** How long to wait before each retry; wins over the worker's `backoff` or `retryDelayS`. */
  backoff?: BackoffOptions;
}

/** A job's run options, checked; a field left out falls back to the worker's. */
export interface JobRunOptions {
  timeoutS?: number;
  backoff?: Backoff;
}

/** Checks `timeoutS` and `backoff` of `enqueue()`; undefined when neither is given. */
export function checkJobRunOptions(
  opts: JobRunOptionsInput | undefined,
  action: string,
): JobRunOptions | undefined {
  if (opts?.timeoutS === undefined && opts?.backoff === undefined) return undefined;
  return {
    timeoutS: opts.timeoutS === undefined ? undefined : requireTimeoutS(opts.timeoutS, action),
    backoff: opts.backoff === undefined
      ? undefined
      : requireBackoff(opts.backoff, "backoff", action),
  };
}

/**
 * Runs `insert` (which writes the jobs and returns their ids) and stores `options` for them in
 * the same transaction; without options, runs `insert` alone (no transaction of its own).
 */
export function enqueueWithRunOptions<R extends number | number[]>(
  ctx: DatabaseContext,
  driver: SqliteDriver,
  options: JobRunOptions | undefined,
  insert: () => R,
): R {
  if (options === undefined) return insert();
  return ctx.transactions.atomic(() => {
    const ids = insert();
    saveJobRunOptions(driver, typeof ids === "number" ? [ids] : ids, options);
    return ids;
  });
}

/** Stores `options` for jobs just inserted; call inside the transaction that inserted them. */
export function saveJobRunOptions(
  driver: SqliteDriver,
  jobIds: readonly number[],
  options: JobRunOptions,
): void {
  driver.run(JOB_OPTIONS_INSERT, [
    options.timeoutS ?? null,
    options.backoff === undefined ? null : backoffText(options.backoff),
    JSON.stringify(jobIds),
  ]);
}

/** Run options from their stored columns; undefined when both are empty. */
function runOptionsOfColumns(timeoutS: unknown, backoff: unknown): JobRunOptions | undefined {
  const timeout = typeof timeoutS === "number" ? timeoutS : undefined;
  const parsed = typeof backoff === "string" ? parseBackoff(backoff) : undefined;
  return timeout === undefined && parsed === undefined
    ? undefined
    : { timeoutS: timeout, backoff: parsed };
}

/**
 * A claimed row's own run options, from the columns a claim with run options returns
 * (`run_timeout_s`, `run_backoff`): undefined when it has none.
 */
export function runOptionsOfClaimed(
  row: Readonly<Record<string, unknown>>,
): JobRunOptions | undefined {
  return runOptionsOfColumns(row.run_timeout_s, row.run_backoff);
}

/** The stored run options of those of `jobIds` that have any, in one read. */
export function readJobRunOptions(
  driver: SqliteDriver,
  jobIds: readonly number[],
): Map<number, JobRunOptions> {
  type Row = { job_id: number; timeout_s: number | null; backoff: string | null };
  const found = new Map<number, JobRunOptions>();
  for (const row of driver.all<Row>(JOB_OPTIONS_GET_MANY, [JSON.stringify(jobIds)])) {
    const options = runOptionsOfColumns(row.timeout_s, row.backoff);
    if (options !== undefined) found.set(row.job_id, options);
  }
  return found;
}

/**
 * The run options of the jobs a worker has started, read once for every job a claim handed out
 * together (the first handler to ask reads them all), and forgotten when each job is settled.
 */
export class RunOptionsCache {
  #read: (jobIds: readonly number[]) => Map<number, JobRunOptions>;
  #unread = new Set<number>();
  #known = new Map<number, JobRunOptions>();

  constructor(read: (jobIds: readonly number[]) => Map<number, JobRunOptions>) {
    this.#read = read;
  }

  /**
   * A job was handed to a handler. `known` holds the run options its claim returned (an entry
   * with undefined: it has none); a job missing from it has its options read on first ask.
   */
  started(jobId: number, known?: ReadonlyMap<number, JobRunOptions | undefined>): void {
    if (known?.has(jobId)) {
      const options = known.get(jobId);
      if (options !== undefined) this.#known.set(jobId, options);
    } else {
      this.#unread.add(jobId);
    }
  }

  /** The job is settled: its options are no longer needed. */
  ended(jobId: number): void {
    this.#unread.delete(jobId);
    this.#known.delete(jobId);
  }

  /** The job's own options; none when it has none or they cannot be read (a closed database). */
  get(jobId: number): JobRunOptions | undefined {
    if (this.#unread.has(jobId)) {
      try {
        for (const [id, options] of this.#read([...this.#unread])) this.#known.set(id, options);
      } catch {
        // None known: the worker's own apply.
      }
      this.#unread.clear();
    }
    return this.#known.get(jobId);
  }
}
