/**
 * The claim step behind `Queue.claimBatch()`: the claim statement(s), Job objects in claim
 * order, and the payload schema check that sends a job whose payload no longer validates to the
 * dead letters instead of handing it out. Private to `core/`.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import { Job } from "./job.ts";
import { parseJson } from "../db/json.ts";
import * as ops from "./ops.ts";
import type { JobRow } from "./job_rows.ts";
import {
  claimLookParams,
  JOB_CLAIM_LOOK,
  JOB_CLAIM_PRECHECK,
  JOB_EXHAUSTED_PENDING_EXISTS,
} from "./claim_sql.ts";
import { checkPayload } from "../db/standard_schema.ts";
import { runOptionsOfClaimed } from "./job_options.ts";
import type { JobRunOptions } from "./job_options.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";

/** What the claim needs to know about the queue. */
export interface ClaimTarget {
  readonly name: string;
  readonly visibilityTimeoutS: number;
  readonly schema: StandardSchemaV1 | undefined;
}

function byClaimOrder(a: Job<unknown>, b: Job<unknown>): number {
  return b.priority - a.priority || a.runAt - b.runAt || a.id - b.id;
}

/** Rows a claim took, and when it found nothing more due, the next moment one could succeed. */
interface Claimed {
  rows: JobRow[];
  /** Unix seconds of the next possible claim (0: none known), or undefined if more may be due. */
  nextAt: number | undefined;
  /** The connection's data_version the look read at (background claims only). */
  version?: number;
  /** Whether the look saw more due than this claim takes (background claims only). */
  more?: boolean;
  /** True when the claim ran without a look: what is due after it is not known. */
  direct?: true;
}

/**
 * A background claimer's look, made on its own before a claim (`lookInBackground`) and handed to
 * it (`claimInBackground`'s `looked`). Opaque outside this module but for `claimWrites()`.
 */
export type ClaimLookRow = {
  exhausted: number;
  /** The pre-check: 0 or 1. The look: how many rows could be claimed, up to one past its size. */
  claimable: number;
  /** The look, only when nothing is claimable (NULL otherwise). */
  exhausted_pending?: number | null;
  /** The look, only when nothing more will be due after the claim (NULL otherwise). */
  next_at?: number | null;
  /** The look: the connection's data_version as of the same read (`Waker.seenBy`). */
  data_version?: number;
};

/** One claim's inputs, handed whole to each of its steps below. */
interface ClaimCall {
  ctx: DatabaseContext;
  driver: SqliteDriver;
  queue: ClaimTarget;
  workerId: string;
  n: number;
  /** A claim work() and claim() make on their own, not the application's call. */
  background: boolean;
}

/**
 * One claim. The application's own claim asks the two-answer pre-check; a background claimer's
 * look also learns, in the same read, what it needs before it sleeps (`JOB_CLAIM_LOOK`). Inside
 * the application's transaction there is no pre-check (the write lock is held already); inside
 * work()'s batch of acks and claims the look still runs: it costs one read where the claim
 * without it costs three or four statements.
 */
function claimRows(call: ClaimCall, direct = false, looked?: ClaimLookRow): Claimed {
  if (direct) {
    // The claim first, in one autocommit statement: after another process's commit the look
    // is the longest step between the wake and the handler (its pages are read again).
    // Exhausted rows are skipped by the claim and buried by the next look. Nothing claimed:
    // the look below says when to look next.
    const { driver, queue, workerId, n } = call;
    const rows = ops.claimJobRows(driver, queue.name, workerId, n, queue.visibilityTimeoutS, true);
    if (rows.length > 0) return { rows, nextAt: undefined, direct: true };
  }
  // A background claim looks first even inside work()'s batch transaction: one read instead of
  // the two dead-letter DELETEs and the next-claim read of the unconditional claim.
  const check = looked ??
    (call.ctx.transactions.current && !call.background ? undefined : look(call));
  if (check === undefined || check.exhausted) return claimBurying(call, check);
  // Nothing due: no write (a woken worker must not contend for the write lock for nothing).
  if (!check.claimable) return nothingDue(call, check);
  return claimLooked(call, check);
}

/** The background claimer's look, or the application's pre-check. */
function look(
  { driver, queue, n, background }: Pick<ClaimCall, "driver" | "queue" | "n" | "background">,
): ClaimLookRow | undefined {
  return background
    ? driver.get<ClaimLookRow>(JOB_CLAIM_LOOK, claimLookParams(queue.name, n))
    : driver.get<ClaimLookRow>(JOB_CLAIM_PRECHECK, Array(3).fill(queue.name));
}

/**
 * Whether a claim given this look writes anything: it claims, or it buries claims or pending
 * rows out of attempts. When it does not, the claim is the look alone.
 */
export function claimWrites(check: ClaimLookRow): boolean {
  return Boolean(check.exhausted || check.claimable > 0 || check.exhausted_pending);
}

/**
 * The unconditional claim, in one transaction: expired claims out of attempts go to the dead
 * letters first (honker's `claim_batch`). Taken when the look found such a claim, or when there
 * was no look (inside the application's transaction).
 */
function claimBurying(call: ClaimCall, check: ClaimLookRow | undefined): Claimed {
  const { ctx, driver, queue, workerId, n, background } = call;
  const rows = ctx.transactions.atomic(() =>
    ops.claimJobs(driver, queue.name, workerId, n, queue.visibilityTimeoutS)
  );
  const nextAt = rows.length < n && background ? ops.nextClaimAt(driver, queue.name) : undefined;
  return { rows, nextAt, version: check?.data_version };
}

/** Nothing claimable: only due pending rows out of attempts are buried, and nothing claimed. */
function nothingDue(call: ClaimCall, check: ClaimLookRow): Claimed {
  const { ctx, driver, queue, background } = call;
  const exhausted = background
    ? check.exhausted_pending
    : driver.get(JOB_EXHAUSTED_PENDING_EXISTS, [queue.name]);
  if (exhausted) ctx.transactions.atomic(() => ops.buryExhaustedPending(driver, queue.name));
  return { rows: [], nextAt: check.next_at ?? 0, version: check.data_version, more: false };
}

/**
 * The common case in one autocommit statement: the look saw rows claimable and no expired claim
 * out of attempts. A background claim takes each job's own run options with it (work() needs
 * them for every job).
 */
function claimLooked(call: ClaimCall, check: ClaimLookRow): Claimed {
  const { ctx, driver, queue, workerId, n, background } = call;
  const name = queue.name;
  const rows = ops.claimJobRows(driver, name, workerId, n, queue.visibilityTimeoutS, background);
  const version = check.data_version;
  if (!background) {
    // A short claim took every row claimable: bury the due pending rows out of attempts, which
    // the pre-check did not ask about.
    if (rows.length < n && driver.get(JOB_EXHAUSTED_PENDING_EXISTS, [name])) {
      ctx.transactions.atomic(() => ops.buryExhaustedPending(driver, name));
    }
    return { rows, nextAt: undefined, version };
  }
  if (rows.length >= n) {
    // The look counted one row past this claim: when there was none, nothing more is due after
    // it, and the claimer sleeps until a commit or the next deadline instead of looking again
    // with the acks of these jobs (one autocommit ack where ack and look took four statements).
    const more = check.claimable > n;
    return {
      rows,
      nextAt: more ? undefined : nextAfterShortClaim(check, rows, queue),
      version,
      more,
    };
  }
  // A short claim took every row claimable when it ran: the look just made already knows when
  // the next could succeed (a commit since then wakes the claimer again), so a background claim
  // reads nothing more. Exhausted pending rows, which its look did not ask about, are buried by
  // the next look that finds nothing claimable: they are never claimed meanwhile.
  return { rows, nextAt: nextAfterShortClaim(check, rows, queue), version, more: false };
}

/**
 * When a claim could next succeed after a claim that took everything due: the look's answer, or
 * sooner when a claim just taken expires first (its handler may hang past the visibility timeout).
 */
function nextAfterShortClaim(check: ClaimLookRow, rows: JobRow[], queue: ClaimTarget): number {
  const known = check.next_at ?? 0;
  if (rows.length === 0) return known;
  const expiresAt = Math.floor(Date.now() / 1000) + queue.visibilityTimeoutS + 1;
  return known === 0 ? expiresAt : Math.min(known, expiresAt);
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
