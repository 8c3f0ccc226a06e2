/**
 * The SQL of the queue controls (`changePriority`, `promote`) and of the job listing
 * (`queue.jobs()`). Every value is a bound parameter; "now" is SQLite's `unixepoch()`.
 *
 * @module
 */

/** Sets the priority of a live job of one queue. Params: priority, id, queue. */
export const JOB_SET_PRIORITY = `UPDATE _honker_live SET priority = ?
  WHERE id = ? AND queue = ? AND state IN ('pending', 'processing')`;

/** Makes a delayed pending job of one queue due now. Params: id, queue. */
export const JOB_PROMOTE = `UPDATE _honker_live SET run_at = unixepoch()
  WHERE id = ? AND queue = ? AND state = 'pending' AND run_at > unixepoch()`;

const LIVE_COLUMNS = "id, queue, payload, state, priority, run_at, worker_id, " +
  "claim_expires_at, attempts, max_attempts, created_at, expires_at, " +
  "NULL AS last_error, NULL AS died_at";
const DEAD_COLUMNS = "id, queue, payload, 'dead' AS state, priority, run_at, NULL AS worker_id, " +
  "NULL AS claim_expires_at, attempts, max_attempts, created_at, NULL AS expires_at, " +
  "last_error, died_at";

/** The live rows of one queue after an id cursor, per listed state. */
const LIVE_WHERE = "queue = CAST(? AS TEXT) AND id > ?";
const LIVE_STATE_WHERE: Readonly<Record<"pending" | "scheduled" | "processing", string>> = {
  pending: "state = 'pending' AND run_at <= unixepoch()",
  scheduled: "state = 'pending' AND run_at > unixepoch()",
  processing: "state = 'processing'",
};

function liveList(where: string): string {
  return `SELECT ${LIVE_COLUMNS} FROM _honker_live WHERE ${LIVE_WHERE} AND ${where}
  ORDER BY id LIMIT CAST(? AS INTEGER)`;
}

/**
 * One page of a queue's jobs in one state (or all, live and dead, in one read), oldest id first,
 * after an id cursor. Live and dead ids never collide: honker's live ids are AUTOINCREMENT and a
 * dead row keeps its live id. Params: queue, afterId, limit (`all`: queue, afterId, queue,
 * afterId, limit).
 */
export const JOB_LIST: Readonly<
  Record<"pending" | "scheduled" | "processing" | "dead" | "all", string>
> = {
  pending: liveList(LIVE_STATE_WHERE.pending),
  scheduled: liveList(LIVE_STATE_WHERE.scheduled),
  processing: liveList(LIVE_STATE_WHERE.processing),
  dead: `SELECT ${DEAD_COLUMNS} FROM _honker_dead WHERE queue = CAST(? AS TEXT) AND id > ?
    ORDER BY id LIMIT CAST(? AS INTEGER)`,
  all: `SELECT * FROM (
    SELECT ${LIVE_COLUMNS} FROM _honker_live WHERE ${LIVE_WHERE}
    UNION ALL
    SELECT ${DEAD_COLUMNS} FROM _honker_dead WHERE queue = CAST(? AS TEXT) AND id > ?)
  ORDER BY id LIMIT CAST(? AS INTEGER)`,
};
