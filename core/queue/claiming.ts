/**
 * The claim behind `Queue.claimBatch()`, `claim()` and `work()`: its statements
 * (`claim_steps.ts`), Job objects in claim order, and the payload schema check that sends a job
 * whose payload no longer validates to the dead letters instead of handing it out. Private to
 * `core/`.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import { Job } from "./job.ts";
import { parseJson } from "../db/json.ts";
import { claimRows, look } from "./claim_steps.ts";
import type { ClaimCall, Claimed, ClaimLookRow, ClaimTarget } from "./claim_steps.ts";
import type { JobRow } from "./job_rows.ts";
import { checkPayload } from "../db/standard_schema.ts";
import { runOptionsOfClaimed } from "./job_options.ts";
import type { JobRunOptions } from "./job_options.ts";

function byClaimOrder(a: Job<unknown>, b: Job<unknown>): number {
  return b.priority - a.priority || a.runAt - b.runAt || a.id - b.id;
}

/**
 * What a background claim found: the jobs, and when the queue had nothing more due, the next
 * moment a claim could succeed (unix seconds, 0 when none is known; undefined when more may be
 * due now), so that the claimer can sleep without another read.
 */
export interface ClaimLook<T> {
  jobs: Job<T>[];
  nextAt: number | undefined;
  /** False when nothing more was due after this claim; undefined when that is not known. */
  more?: boolean;
  /**
   * The run options of the jobs whose claim returned them (undefined: the job has none); a job
   * missing from it needs them read.
   */
  runOptions?: ReadonlyMap<number, JobRunOptions | undefined>;
  /** The connection's data_version the (last) look read at; undefined when none ran. */
  version?: number;
  /**
   * True when jobs were claimed without a look (`claimInBackground`'s `direct`): `nextAt` and
   * `more` are unknown, and a claimer with slots still free must look before it sleeps.
   */
  direct?: true;
}

/** How a background claim starts: `claimInBackground()`'s options. */
export interface BackgroundClaimOptions {
  /** Claim before looking (see `ClaimLook.direct`). */
  direct?: boolean;
  /** The look, already made by `lookInBackground()` for the same `n`: the claim does not look. */
  looked?: ClaimLookRow;
}

/** Claims up to `n` jobs for `workerId` as the application's own call, in claim order. */
export function claimBatch<T>(
  ctx: DatabaseContext,
  queue: ClaimTarget,
  workerId: string,
  n: number,
  action: string,
): Job<T>[] {
  const call = { ctx, driver: ctx.open(action), queue, workerId, n, background: false };
  return claimJobs<T>(call, action).jobs;
}

/**
 * The claim `work()` and `claim()` make on their own: a background write that waits only
 * briefly for the write lock and throws a transient SqliteError when the database is busy.
 * `direct`: claim before looking (see `ClaimLook.direct`), for a claimer whose wakes have been
 * finding jobs; without it the look comes first, so that a wake for nothing takes no write lock.
 */
export function claimInBackground<T>(
  ctx: DatabaseContext,
  queue: ClaimTarget,
  workerId: string,
  n: number,
  action: string,
  { direct = false, looked }: BackgroundClaimOptions = {},
): ClaimLook<T> {
  return ctx.background(action, (driver) => {
    const call = { ctx, driver, queue, workerId, n, background: true };
    return claimJobs<T>(call, action, direct, looked);
  });
}

/**
 * A background claimer's look alone, a read: what a claim of up to `n` jobs would do. Made
 * before committing outcomes that could join the claim: when `claimWrites()` says the claim
 * would write nothing, the outcomes need no transaction with it.
 */
export function lookInBackground(
  ctx: DatabaseContext,
  queue: ClaimTarget,
  n: number,
  action: string,
): ClaimLookRow {
  // A SELECT of subqueries, with no FROM table of its own: always exactly one row.
  return ctx.background(action, (driver) => look({ driver, queue, n, background: true })!);
}

function claimJobs<T>(
  call: ClaimCall,
  action: string,
  direct = false,
  looked?: ClaimLookRow,
): ClaimLook<T> {
  const jobs: Job<T>[] = [];
  const runOptions = new Map<number, JobRunOptions | undefined>();
  let claimed: Claimed;
  // A job dead-lettered for its payload frees its slot: claim again until n are handed out or
  // the queue has nothing more due. Only the first round claims directly: a later one looks.
  for (let round = 0;; round++) {
    const first = round === 0;
    claimed = claimRows(
      { ...call, n: call.n - jobs.length },
      direct && first,
      first ? looked : undefined,
    );
    if (claimed.rows.length === 0) break;
    // Quiet: a claim never makes anything claimable, so local waiters need not look again.
    call.ctx.wrote("quiet");
    const rejected = takeRows(call, claimed.rows, action, jobs, runOptions);
    if (rejected === 0 || jobs.length >= call.n) break;
  }
  // Sorted as Jobs, whose fields read faster than node:sqlite's rows.
  if (jobs.length > 1) jobs.sort(byClaimOrder);
  const { nextAt, version, more } = claimed;
  return { jobs, nextAt, version, more, runOptions, direct: claimed.direct };
}

/**
 * Appends a Job to `jobs` for each claimed row, with the run options its claim returned; a row
 * whose payload no longer matches the queue's schema goes to the dead letters instead. Returns
 * how many went there.
 */
function takeRows<T>(
  { ctx, queue }: ClaimCall,
  rows: readonly JobRow[],
  action: string,
  jobs: Job<T>[],
  runOptions: Map<number, JobRunOptions | undefined>,
): number {
  let rejected = 0;
  for (const row of rows) {
    let payload = parseJson<unknown>(row.payload);
    if (queue.schema) {
      const checked = checkPayload(queue.schema, payload, action);
      if (!checked.ok) {
        rejected++;
        const job = new Job(ctx, row, payload, queue.visibilityTimeoutS);
        job.fail(`payload does not match the schema: ${checked.message}`);
        continue;
      }
      payload = checked.value;
    }
    jobs.push(new Job<T>(ctx, row, payload as T, queue.visibilityTimeoutS));
    if ("run_timeout_s" in row) runOptions.set(row.id, runOptionsOfClaimed(row));
  }
  return rejected;
}
