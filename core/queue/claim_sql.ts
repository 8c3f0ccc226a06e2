/**
 * The SQL of a claim: which rows may be claimed, the claim itself, the look a background claimer
 * reads before it, the dead-lettering of exhausted rows it finds, and when the next claim could
 * succeed. Every value is a bound parameter; "now" is SQLite's `unixepoch()`, as in honker.
 *
 * @module
 */

import { QUEUE_PAUSED } from "./settings_sql.ts";
import { JOB_COLUMNS } from "./sql.ts";

/**
 * Which rows a claim may take, in honker's order. The SELECT walks the partial index
 * `_honker_live_claim` (queue, priority DESC, run_at, id), so it stops after the first eligible
 * rows whatever the depth of the queue. Exhausted rows (attempts >= max_attempts) are skipped
 * here and dead-lettered separately. Params: queue.
 *
 * A paused queue (`_honker_ts_queues`) is refused beside it, never inside: SQLite does not
 * hoist a subquery out of the walk, so a pause test in this WHERE would walk the whole paused
 * backlog looking for a row it can never accept.
 */
const JOB_CLAIMABLE = `SELECT id FROM _honker_live INDEXED BY _honker_live_claim
    WHERE queue = CAST(? AS TEXT) AND state IN ('pending', 'processing')
      AND attempts < max_attempts
      AND (expires_at IS NULL OR expires_at > unixepoch())
      AND ((state = 'pending' AND run_at <= unixepoch())
        OR (state = 'processing' AND claim_expires_at < unixepoch()))
    ORDER BY priority DESC, run_at ASC, id ASC`;

/** Params: workerId, timeoutS. */
const JOB_CLAIM_SET = `UPDATE _honker_live
  SET state = 'processing', worker_id = ?, claim_expires_at = unixepoch() + ?,
      attempts = attempts + 1`;

/** The expired claims whose attempts are used up. Params: queue. */
const JOB_EXHAUSTED_CLAIMS_WHERE = `queue = CAST(? AS TEXT) AND state = 'processing'
    AND claim_expires_at < unixepoch() AND attempts >= max_attempts
    AND (expires_at IS NULL OR expires_at > unixepoch())`;

/**
 * Before a claim, one read answers both questions the claim path asks: is an expired claim out
 * of attempts (it must go to the dead letters first), and is anything claimable at all? A read,
 * so that a worker woken by someone else's commit does not take the write lock (and make other
 * writers sleep in SQLite's busy handler) when nothing is due; one statement, because the first
 * read after another process's commit pays for reloading the page cache, and a second statement
 * costs another 40–60 µs on the wake-to-handler path. Params: queue × 3.
 */
export const JOB_CLAIM_PRECHECK = `SELECT
    EXISTS (SELECT 1 FROM _honker_live WHERE ${JOB_EXHAUSTED_CLAIMS_WHERE}) AS exhausted,
    (NOT ${QUEUE_PAUSED} AND EXISTS (${JOB_CLAIMABLE})) AS claimable`;

/** Claims up to n rows, none of a paused queue. Params: workerId, timeoutS, queue, n, queue. */
export const JOB_CLAIM = `${JOB_CLAIM_SET}
  WHERE id IN (${JOB_CLAIMABLE} LIMIT CAST(? AS INTEGER)) AND NOT ${QUEUE_PAUSED}
  RETURNING ${JOB_COLUMNS}`;

/**
 * Claims one row. `id = (…LIMIT 1)` is a single rowid lookup, where `id IN (…)` would build and
 * probe a temporary list, and a literal LIMIT lets the planner know only one row is wanted.
 * Params: workerId, timeoutS, queue, queue.
 */
export const JOB_CLAIM_ONE = `${JOB_CLAIM_SET}
  WHERE id = (${JOB_CLAIMABLE} LIMIT 1) AND NOT ${QUEUE_PAUSED}
  RETURNING ${JOB_COLUMNS}`;

/**
 * A claimed row's own run options (`_honker_ts_job_options`), returned by `work()`'s claims with
 * the row: one index probe each, where reading them after the claim took a statement per claim.
 */
const JOB_RUN_OPTION_COLUMNS = `(SELECT timeout_s FROM _honker_ts_job_options
    WHERE job_id = _honker_live.id) AS run_timeout_s,
  (SELECT backoff FROM _honker_ts_job_options WHERE job_id = _honker_live.id) AS run_backoff`;

/** JOB_CLAIM, each row with its run options. Params: as JOB_CLAIM. */
export const JOB_CLAIM_WITH_RUN_OPTIONS = `${JOB_CLAIM}, ${JOB_RUN_OPTION_COLUMNS}`;

/** JOB_CLAIM_ONE, the row with its run options. Params: as JOB_CLAIM_ONE. */
export const JOB_CLAIM_ONE_WITH_RUN_OPTIONS = `${JOB_CLAIM_ONE}, ${JOB_RUN_OPTION_COLUMNS}`;

/** Removes expired claims whose attempts are used up, for the dead table. Params: queue. */
export const JOB_DELETE_EXHAUSTED_CLAIMS = `DELETE FROM _honker_live
  WHERE queue = ? AND state = 'processing' AND claim_expires_at < unixepoch()
    AND attempts >= max_attempts AND (expires_at IS NULL OR expires_at > unixepoch())
  RETURNING ${JOB_COLUMNS}`;

/**
 * Is there a due pending row whose attempts are used up? Walks `_honker_live_pending_deadline`
 * over due rows only; asked only after a claim came back short, when every due row left is
 * such a row. Params: queue.
 */
export const JOB_EXHAUSTED_PENDING_EXISTS = `SELECT 1 AS found FROM _honker_live
  WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at <= unixepoch()
    AND attempts >= max_attempts AND (expires_at IS NULL OR expires_at > unixepoch())
  LIMIT 1`;

/** Removes due pending rows whose attempts are used up, for the dead table. Params: queue. */
export const JOB_DELETE_EXHAUSTED_PENDING = `DELETE FROM _honker_live
  WHERE queue = ? AND state = 'pending' AND run_at <= unixepoch()
    AND attempts >= max_attempts AND (expires_at IS NULL OR expires_at > unixepoch())
  RETURNING ${JOB_COLUMNS}`;

/**
 * Earliest future moment a claim could succeed, or NULL (also while the queue is paused: only a
 * resume, which is a commit, can make a claim succeed). Params: queue, queue, queue.
 */
export const JOB_NEXT_CLAIM_AT = `SELECT MIN(t) AS t FROM (
  SELECT * FROM (SELECT run_at AS t FROM _honker_live
    WHERE queue = CAST(? AS TEXT) AND state = 'pending' AND run_at > unixepoch()
      AND attempts < max_attempts AND (expires_at IS NULL OR expires_at > unixepoch())
    ORDER BY run_at LIMIT 1)
  UNION ALL
  SELECT * FROM (SELECT claim_expires_at + 1 AS t FROM _honker_live
    WHERE queue = CAST(? AS TEXT) AND state = 'processing' AND claim_expires_at >= unixepoch()
      AND attempts < max_attempts AND (expires_at IS NULL OR expires_at > unixepoch())
    ORDER BY claim_expires_at LIMIT 1))
  WHERE NOT ${QUEUE_PAUSED}`;

/** Marks the look's claim size among its parameters; every other one is the queue's name. */
const LOOK_WANTED = "CAST(?/*wanted*/ AS INTEGER)";

/**
 * The look of a background claimer (`work()`, `claim()`), one read: the pre-check's answers —
 * is an expired claim out of attempts, and how many rows could be claimed now, counted up to one
 * more than the claim's size `wanted` (walking the claim index no further): more than `wanted`
 * means more is due after this claim, so the claimer need not look again before a commit — and
 * the connection's `data_version` as of the same snapshot (a wake for a commit this read already
 * saw needs no second look). When nothing more will be due after the claim, also what the
 * claimer needs before it sleeps: whether due pending rows are out of attempts (they go to the
 * dead letters) and when the next claim could succeed.
 *
 * Those two are asked only when needed. The exhausted-pending probe walks every due pending row
 * when none is exhausted: asked beside every claim it made each claim O(backlog) and a drain of
 * N jobs O(N²) (20,000 queued jobs drained at 1,400 jobs/s where 1,000 drained at 5,400). So it
 * runs only when nothing is claimable; exhausted rows sit behind claimable work, skipped by the
 * claim, until such a look buries them. `next_at` is two index seeks, asked only when the claim
 * will empty what is due. A paused queue asks neither: a paused backlog must cost a look no
 * more than an empty queue. Params: `claimLookParams()`.
 */
export const JOB_CLAIM_LOOK = `SELECT exhausted, claimable, data_version,
    CASE WHEN claimable > 0 OR paused THEN NULL
      ELSE EXISTS (${JOB_EXHAUSTED_PENDING_EXISTS}) END AS exhausted_pending,
    CASE WHEN claimable > wanted OR paused THEN NULL
      ELSE (${JOB_NEXT_CLAIM_AT}) END AS next_at
  FROM (SELECT
    EXISTS (SELECT 1 FROM _honker_live WHERE ${JOB_EXHAUSTED_CLAIMS_WHERE}) AS exhausted,
    ${QUEUE_PAUSED} AS paused,
    CASE WHEN ${QUEUE_PAUSED} THEN 0
      ELSE (SELECT count(*) FROM (${JOB_CLAIMABLE} LIMIT ${LOOK_WANTED} + 1)) END AS claimable,
    ${LOOK_WANTED} AS wanted,
    (SELECT data_version FROM pragma_data_version) AS data_version)`;

const LOOK_PARAMS = [...JOB_CLAIM_LOOK.matchAll(/\?(\/\*wanted\*\/)?/g)].map((m) =>
  m[1] !== undefined
);

/** JOB_CLAIM_LOOK's parameters for a claim of up to `wanted` rows of `queue`. */
export function claimLookParams(queue: string, wanted: number): (string | number)[] {
  return LOOK_PARAMS.map((isWanted) => isWanted ? wanted : queue);
}
