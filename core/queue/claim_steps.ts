/**
 * The statements of one claim, chosen by what a look found: the look (or the application's
 * pre-check), then the common claim in one autocommit statement, the claim that first buries
 * expired claims out of attempts (in one transaction), or no write when nothing is due. Private
 * to `claiming.ts`, which turns the rows into jobs.
 *
 * @module
 */

import type { DatabaseContext } from "../db/context.ts";
import type { SqliteDriver } from "../db/driver.ts";
import * as ops from "./ops.ts";
import type { JobRow } from "./job_rows.ts";
import {
  claimLookParams,
  JOB_CLAIM_LOOK,
  JOB_CLAIM_PRECHECK,
  JOB_EXHAUSTED_PENDING_EXISTS,
} from "./claim_sql.ts";
import type { StandardSchemaV1 } from "../db/standard_schema.ts";

/** What the claim needs to know about the queue. */
export interface ClaimTarget {
  readonly name: string;
  readonly visibilityTimeoutS: number;
  readonly schema: StandardSchemaV1 | undefined;
}

/** Rows a claim took, and when it found nothing more due, the next moment one could succeed. */
export interface Claimed {
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
 * A claim's look (or the application's pre-check), the row as SQLite returns it. A background
 * claimer may make its look before the claim (`lookInBackground`) and hand it over
 * (`claimInBackground`'s `looked`); outside the claim, only `claimWrites()` reads it.
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
export interface ClaimCall {
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
 * without it costs three or four statements. `looked`: that look, made already.
 */
export function claimRows(call: ClaimCall, direct = false, looked?: ClaimLookRow): Claimed {
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
export function look(
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
