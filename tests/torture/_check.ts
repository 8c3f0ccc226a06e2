/**
 * The torture run's invariants, checked from the database file alone after every process
 * stopped: jobs, stream events, schedule boundaries and the file's integrity.
 *
 * @module
 */

import type { Database } from "../../mod.ts";
import {
  BATCH_QUEUE,
  EVENTS_TOPIC,
  JOBS_QUEUE,
  RANDOM_FAILURE,
  TICK_TASK,
  TICKS_QUEUE,
} from "./_shared.ts";

/** What the file says happened. */
export interface FileStats {
  enqueued: number;
  acked: number;
  dead: number;
  threw: number;
  /** Claims beyond the first, over acked and dead jobs. */
  redeliveries: number;
  /** Redeliveries not explained by a recorded throw: a SIGKILLed or too slow holder. */
  redeliveriesAfterLapse: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Milliseconds from the first enqueue to the last ack. */
  spanMs: number;
  batch: BatchStats;
  events: number;
  subscribers: Array<
    { name: string; seen: number; duplicates: number; incarnations: number; threw: number }
  >;
  fires: number;
  /** Adds of the tick task by scheduler processes at their start. */
  readds: number;
  /** Write-lock holds that committed (a locker killed mid-hold leaves none). */
  holds: { count: number; totalMs: number; longestMs: number };
  integrity: string;
}

type Row = Record<string, number | string | null>;

function count(db: Database, sql: string, params: Array<string | number> = []): number {
  return Number(db.driver.get<{ n: number }>(sql, params)?.n ?? 0);
}

function sample(db: Database, sql: string, params: Array<string | number> = []): string {
  return JSON.stringify(db.driver.all<Row>(`${sql} LIMIT 5`, params).map((r) => ({ ...r })));
}

/** Every enqueued job acked exactly once, or dead with a reason; nothing else. */
function checkJobs(db: Database, violations: string[]): void {
  const rules: Array<[string, string]> = [
    [
      "jobs are still live after the drain",
      "SELECT id, state, attempts, worker_id FROM _honker_live WHERE queue = ?1",
    ],
    [
      "jobs were acked more than once",
      "SELECT payload_id, count(*) AS acks FROM torture_acks GROUP BY payload_id HAVING acks > 1",
    ],
    [
      "acks name a payload no producer enqueued, or the wrong job id",
      `SELECT a.payload_id, a.job_id FROM torture_acks a LEFT JOIN torture_enqueued e
        USING (payload_id) WHERE e.job_id IS NOT a.job_id`,
    ],
    [
      "jobs are neither acked nor dead",
      `SELECT payload_id, job_id FROM torture_enqueued e
        WHERE NOT EXISTS (SELECT 1 FROM torture_acks a WHERE a.payload_id = e.payload_id)
          AND NOT EXISTS (SELECT 1 FROM _honker_dead d WHERE d.id = e.job_id)`,
    ],
    [
      "jobs are both acked and dead",
      `SELECT e.payload_id, d.id FROM torture_enqueued e JOIN _honker_dead d ON d.id = e.job_id
        WHERE EXISTS (SELECT 1 FROM torture_acks a WHERE a.payload_id = e.payload_id)`,
    ],
    [
      "dead jobs have no reason, or no producer",
      `SELECT d.id, d.last_error FROM _honker_dead d WHERE d.queue = ?1
        AND (d.last_error IS NULL OR d.last_error = ''
          OR NOT EXISTS (SELECT 1 FROM torture_enqueued e WHERE e.job_id = d.id))`,
    ],
  ];
  for (const [what, sql] of rules) {
    const params = sql.includes("?1") ? [JOBS_QUEUE] : [];
    const n = count(db, `SELECT count(*) AS n FROM (${sql})`, params);
    if (n > 0) violations.push(`${n} ${what}: ${sample(db, sql, params)}`);
  }
}

/** What the file says the batch workers did (work() completing the jobs itself). */
export interface BatchStats {
  enqueued: number;
  /** Jobs with a `completed` event (and so a result). */
  completed: number;
  dead: number;
  deadReasons: string[];
  /** Handler runs started, by every batch worker incarnation. */
  runs: number;
  /** Runs that threw (each a retry, or a dead letter on the last attempt). */
  threw: number;
  /** Runs that returned but whose ack never committed: killed before the flush, or lapsed. */
  returnedNotCompleted: number;
  /** Runs that started and never reached their end: killed mid-handler. */
  unfinished: number;
}

/**
 * The batch queue as a SQL literal: the checks run on every driver, and better-sqlite3 takes
 * positional `?` parameters only, not `?1`.
 */
const BQ = `'${BATCH_QUEUE}'`;

/** The completed event of each batch job, with its stored result (one row per event). */
const BATCH_COMPLETED = `SELECT e.id AS event, e.job_id, e.attempt, e.data, r.value AS result,
    r.expires_at FROM _honker_ts_job_events e
    LEFT JOIN _honker_results r ON r.job_id = e.job_id
    WHERE e.queue = ${BQ} AND e.type = 'completed'`;

/**
 * work()'s own completions (batched acks with results, batched retries), checked from the file.
 * Why each check is sound — what makes it hold whatever was SIGKILLed when:
 *
 * - A job is one row of `_honker_live`; its delete writes one `completed` (an ack) or, rewritten
 *   in the same transaction, one `dead` event (`events_sql.ts`), and rowids of committed events
 *   are never reused. Retention deletes only events older than a day (`retention.jobEventsS`),
 *   and a run is at most half a day (`--seconds`), so every event of the run is still there:
 *   each enqueued job must have exactly one `completed` or `dead` event, never both, none twice.
 * - The result is stored in the ack's transaction, only when the fenced ack deleted the row, and
 *   it names the attempt of the run that returned it; each claim adds one attempt, and the
 *   completed event records the row's attempts at the delete. So the result, the event's copy of
 *   it and the event must agree on the attempt: a stale ack (of a lapsed claim) that deleted a
 *   re-claimed row, or a result written by an ack that did not commit, would disagree. The
 *   result TTL is 0 (kept forever), so it must be present and unexpired.
 * - Runs are recorded outside the ack, each in its own transaction, the start before the handler
 *   works and the outcome before it returns or throws; the ack is only written after the handler
 *   returned. So the completed attempt has a run that recorded `returned`, by the worker its
 *   result names (at least once, and the ack is that run's). The converse cannot be checked
 *   exactly: a run killed between its claim and its start record leaves none (an attempt without
 *   a run), and a `returned` run whose ack never committed is the at-least-once redelivery,
 *   counted, not a violation.
 * - Each attempt is one claim, held by one worker: two runs with the same job and attempt mean
 *   a claim handed out twice. The claim's `active` event names its worker: the one whose result
 *   completed the job must be the one that claimed that attempt (the ack is fenced on it).
 * - A `failed` event is written only by the retry (or dead letter) of a held job after its
 *   handler threw, in the same attempt: each must match a run that recorded `threw`. (A throw
 *   whose retry was never flushed leaves no `failed` event; that is not checked.)
 * - No result may exist for a batch job without a `completed` event.
 */
export function checkBatch(db: Database, violations: string[]): BatchStats {
  const completed = `SELECT job_id, count(*) AS n FROM _honker_ts_job_events
    WHERE queue = ${BQ} AND type = 'completed' GROUP BY job_id`;
  const deadEvents = `SELECT job_id, count(*) AS n FROM _honker_ts_job_events
    WHERE queue = ${BQ} AND type = 'dead' GROUP BY job_id`;
  const rules: Array<[string, string]> = [
    [
      "batch jobs are still live after the drain",
      `SELECT id, state, attempts, worker_id FROM _honker_live WHERE queue = ${BQ}`,
    ],
    [
      "batch jobs have more than one completed event",
      `SELECT job_id, n FROM (${completed}) WHERE n > 1`,
    ],
    [
      "batch jobs have more than one dead event",
      `SELECT job_id, n FROM (${deadEvents}) WHERE n > 1`,
    ],
    [
      "batch jobs are neither completed nor dead",
      `SELECT b.payload_id, b.job_id FROM torture_batch_enqueued b
        WHERE NOT EXISTS (SELECT 1 FROM _honker_ts_job_events e
          WHERE e.queue = ${BQ} AND e.job_id = b.job_id AND e.type IN ('completed', 'dead'))`,
    ],
    [
      "batch jobs are both completed and dead",
      `SELECT c.job_id FROM (${completed}) c
        WHERE EXISTS (SELECT 1 FROM _honker_dead d WHERE d.id = c.job_id)
          OR EXISTS (SELECT 1 FROM (${deadEvents}) x WHERE x.job_id = c.job_id)`,
    ],
    [
      "dead batch jobs have no reason, no dead event, or no producer",
      `SELECT d.id, d.last_error FROM _honker_dead d WHERE d.queue = ${BQ}
        AND (d.last_error IS NULL OR d.last_error = ''
          OR NOT EXISTS (SELECT 1 FROM (${deadEvents}) x WHERE x.job_id = d.id)
          OR NOT EXISTS (SELECT 1 FROM torture_batch_enqueued b WHERE b.job_id = d.id))`,
    ],
    [
      "completed batch jobs have no result, an expired one, or one of another attempt or payload",
      `SELECT c.job_id, c.attempt, c.result, c.data FROM (${BATCH_COMPLETED}) c
        LEFT JOIN torture_batch_enqueued b ON b.job_id = c.job_id
        WHERE c.result IS NULL OR c.expires_at IS NOT NULL
          OR json_extract(c.result, '$.attempt') IS NOT c.attempt
          OR json_extract(c.result, '$.payloadId') IS NOT b.payload_id
          OR json_extract(c.data, '$.result.attempt') IS NOT c.attempt
          OR json_extract(c.data, '$.result.worker') IS NOT json_extract(c.result, '$.worker')`,
    ],
    [
      "completed attempts have no handler run that returned, by the worker the result names",
      `SELECT c.job_id, c.attempt, c.result FROM (${BATCH_COMPLETED}) c
        WHERE NOT EXISTS (SELECT 1 FROM torture_batch_runs r WHERE r.job_id = c.job_id
          AND r.attempt = c.attempt AND r.outcome = 'returned'
          AND r.worker = json_extract(c.result, '$.worker'))`,
    ],
    [
      "completed attempts were claimed by another worker than the one whose result completed them",
      `SELECT c.job_id, c.attempt, c.result FROM (${BATCH_COMPLETED}) c
        WHERE NOT EXISTS (SELECT 1 FROM _honker_ts_job_events a WHERE a.queue = ${BQ}
          AND a.job_id = c.job_id AND a.type = 'active' AND a.attempt = c.attempt
          AND json_extract(a.data, '$.workerId') = json_extract(c.result, '$.worker'))`,
    ],
    [
      "batch attempts were run twice (one claim handed out twice)",
      `SELECT job_id, attempt, count(*) AS n FROM torture_batch_runs
        GROUP BY job_id, attempt HAVING n > 1`,
    ],
    [
      "failed events match no handler run that threw in that attempt",
      `SELECT e.job_id, e.attempt, e.data FROM _honker_ts_job_events e
        WHERE e.queue = ${BQ} AND e.type = 'failed' AND NOT EXISTS (SELECT 1 FROM torture_batch_runs r
          WHERE r.job_id = e.job_id AND r.attempt = e.attempt AND r.outcome = 'threw')`,
    ],
    [
      "results exist for batch jobs that never completed",
      `SELECT b.job_id, r.value FROM torture_batch_enqueued b JOIN _honker_results r
        ON r.job_id = b.job_id WHERE NOT EXISTS (SELECT 1 FROM (${completed}) c
          WHERE c.job_id = b.job_id)`,
    ],
  ];
  for (const [what, sql] of rules) {
    const n = count(db, `SELECT count(*) AS n FROM (${sql})`);
    if (n > 0) violations.push(`${n} ${what}: ${sample(db, sql)}`);
  }
  const q = [BATCH_QUEUE];
  return {
    enqueued: count(db, "SELECT count(*) AS n FROM torture_batch_enqueued"),
    completed: count(db, `SELECT count(*) AS n FROM (${completed})`),
    dead: count(db, "SELECT count(*) AS n FROM _honker_dead WHERE queue = ?", q),
    deadReasons: db.driver.all<{ last_error: string; n: number }>(
      "SELECT last_error, count(*) AS n FROM _honker_dead WHERE queue = ? GROUP BY last_error",
      q,
    ).map((r) => `${r.n}× ${r.last_error}`),
    runs: count(db, "SELECT count(*) AS n FROM torture_batch_runs"),
    threw: count(db, "SELECT count(*) AS n FROM torture_batch_runs WHERE outcome = 'threw'"),
    returnedNotCompleted: count(
      db,
      `SELECT count(*) AS n FROM torture_batch_runs r WHERE r.outcome = 'returned'
        AND NOT EXISTS (SELECT 1 FROM _honker_ts_job_events e WHERE e.queue = ? AND
          e.job_id = r.job_id AND e.type = 'completed' AND e.attempt = r.attempt)`,
      q,
    ),
    unfinished: count(db, "SELECT count(*) AS n FROM torture_batch_runs WHERE outcome IS NULL"),
  };
}

type Seen = { pid: number; round: number; offset: number };

/**
 * One subscriber's walk, against the published offsets in order (`index`): within an incarnation
 * (a pid and round) each event is the next published one, so nothing is skipped or reordered;
 * an incarnation starts no later than right after the furthest event handled before it (its
 * saved offset can only be behind that); and after a throw, the next round starts at or before
 * the event that threw, which is delivered again.
 */
function checkWalk(
  db: Database,
  violations: string[],
  name: string,
  index: Map<number, number>,
): FileStats["subscribers"][number] {
  const rows = db.driver.all<Seen>(
    "SELECT pid, round, offset FROM torture_seen WHERE subscriber = ? ORDER BY rowid",
    [name],
  );
  const last = new Map<string, number>();
  const first = new Map<string, number>();
  let furthest = -1;
  const problems: string[] = [];
  for (const { pid, round, offset } of rows) {
    const at = index.get(offset);
    const key = `${pid}/${round}`;
    const prev = last.get(key);
    if (at === undefined) problems.push(`${name} saw offset ${offset}, which nobody published`);
    else if (prev === undefined && at > furthest + 1) {
      problems.push(
        `${name} (pid ${pid}, round ${round}) started at event #${at + 1} (offset ` +
          `${offset}), but only #${furthest + 1} had been handled: the events between were skipped`,
      );
    } else if (prev !== undefined && at !== prev + 1) {
      problems.push(
        `${name} (pid ${pid}, round ${round}) saw event #${at + 1} (offset ${offset}) ` +
          `after #${prev + 1}: ${at <= prev ? "out of order" : "skipped the events between"}`,
      );
    }
    if (at === undefined) continue;
    if (prev === undefined) first.set(key, offset);
    last.set(key, at);
    furthest = Math.max(furthest, at);
  }
  const throws = db.driver.all<Seen>(
    "SELECT pid, round, offset FROM torture_event_throws WHERE subscriber = ? ORDER BY rowid",
    [name],
  );
  for (const { pid, round, offset } of throws) {
    const next = first.get(`${pid}/${round + 1}`);
    if (next !== undefined && next > offset) {
      problems.push(
        `${name} (pid ${pid}) threw on offset ${offset} in round ${round}, and round ` +
          `${round + 1} started at ${next}: the event in hand was not delivered again`,
      );
    }
  }
  violations.push(...problems.slice(0, 5));
  if (problems.length > 5) violations.push(`${name}: ${problems.length - 5} more like these`);
  const distinct = new Set(rows.map((r) => r.offset)).size;
  return {
    name,
    seen: rows.length,
    duplicates: rows.length - distinct,
    incarnations: last.size,
    threw: throws.length,
  };
}

/** Every published event handled by every subscriber, none skipped, in order per incarnation. */
function checkStream(
  db: Database,
  violations: string[],
  subscribers: string[],
): FileStats["subscribers"] {
  const stored = count(db, "SELECT count(*) AS n FROM _honker_stream WHERE topic = ?", [
    EVENTS_TOPIC,
  ]);
  const unrecorded = count(
    db,
    `SELECT count(*) AS n FROM _honker_stream s WHERE topic = ?
      AND NOT EXISTS (SELECT 1 FROM torture_published p WHERE p.offset = s.offset)`,
    [EVENTS_TOPIC],
  );
  const events = count(db, "SELECT count(*) AS n FROM torture_published");
  if (unrecorded > 0 || stored !== events) {
    violations.push(`the stream holds ${stored} events, producers recorded ${events}`);
  }
  const published = db.driver.all<{ offset: number }>(
    "SELECT offset FROM torture_published ORDER BY offset",
  );
  const index = new Map(published.map((r, i) => [r.offset, i]));
  const maxOffset = published.at(-1)?.offset ?? 0;
  return subscribers.map((name) => {
    const walk = checkWalk(db, violations, name, index);
    const missing = count(
      db,
      `SELECT count(*) AS n FROM torture_published p WHERE NOT EXISTS
        (SELECT 1 FROM torture_seen s WHERE s.subscriber = ? AND s.offset = p.offset)`,
      [name],
    );
    if (missing > 0) violations.push(`${name} never handled ${missing} of ${events} events`);
    const saved = count(
      db,
      "SELECT offset AS n FROM _honker_stream_consumers WHERE name = ? AND topic = ?",
      [name, EVENTS_TOPIC],
    );
    if (saved !== maxOffset) {
      violations.push(`${name}'s saved offset is ${saved}, the last event's is ${maxOffset}`);
    }
    return walk;
  });
}

/**
 * Each boundary from the first to the next one due fired exactly once: the tick queue holds one
 * job per fire, and `next_fire_at` only moves on by firing (one second per fire), or by a
 * re-add that skipped boundaries, which this then reports with the re-adds that moved an
 * overdue boundary.
 */
function checkSchedule(db: Database, violations: string[], runS: number): number {
  const first = count(db, "SELECT value AS n FROM torture_meta WHERE key = ?", ["first_boundary"]);
  const next = count(db, "SELECT next_fire_at AS n FROM _honker_scheduler_tasks WHERE name = ?", [
    TICK_TASK,
  ]);
  const fires = count(
    db,
    `SELECT (SELECT count(*) FROM _honker_live WHERE queue = ?1)
      + (SELECT count(*) FROM _honker_dead WHERE queue = ?1) AS n`,
    [TICKS_QUEUE],
  );
  if (fires !== next - first) {
    const moved = `SELECT pid, now_s, next_before, next_after FROM torture_readds
      WHERE next_before <= now_s AND next_after > next_before ORDER BY rowid`;
    const n = count(db, `SELECT count(*) AS n FROM (${moved})`);
    violations.push(
      `${fires} scheduled jobs for ${next - first} boundaries (${first}..${next}); ` +
        `${n} re-add(s) moved an overdue boundary on: ${sample(db, moved)}`,
    );
  }
  if (fires < runS / 2) violations.push(`only ${fires} boundaries fired in a ${runS} s run`);
  return fires;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Checks everything; returns the stats, appending what is wrong to `violations`. */
export function checkFile(
  db: Database,
  violations: string[],
  subscribers: string[],
  runS: number,
): FileStats {
  checkJobs(db, violations);
  const batch = checkBatch(db, violations);
  const subs = checkStream(db, violations, subscribers);
  const fires = checkSchedule(db, violations, runS);
  const integrity = db.driver.all<{ integrity_check: string }>("PRAGMA integrity_check")
    .map((r) => r.integrity_check).join("; ");
  if (integrity !== "ok") violations.push(`integrity_check: ${integrity}`);
  const latencies = db.driver.all<{ ms: number }>(
    `SELECT a.at_ms - e.at_ms AS ms FROM torture_acks a JOIN torture_enqueued e USING (payload_id)
      ORDER BY ms`,
  ).map((r) => r.ms);
  const threw = count(db, "SELECT count(*) AS n FROM torture_throws");
  const holds = db.driver.get<{ n: number; total: number; longest: number }>(
    "SELECT count(*) AS n, coalesce(sum(held_ms), 0) AS total, coalesce(max(held_ms), 0) AS longest FROM torture_holds",
  );
  const redeliveries = count(
    db,
    `SELECT (SELECT coalesce(sum(attempts - 1), 0) FROM torture_acks)
      + (SELECT coalesce(sum(attempts - 1), 0) FROM _honker_dead WHERE queue = ?) AS n`,
    [JOBS_QUEUE],
  );
  return {
    enqueued: count(db, "SELECT count(*) AS n FROM torture_enqueued"),
    acked: count(db, "SELECT count(*) AS n FROM torture_acks"),
    dead: count(db, "SELECT count(*) AS n FROM _honker_dead WHERE queue = ?", [JOBS_QUEUE]),
    threw,
    redeliveries,
    // A throw on the last attempt dead-letters the job instead of handing it out again.
    redeliveriesAfterLapse: redeliveries - threw + count(
      db,
      "SELECT count(*) AS n FROM _honker_dead WHERE queue = ? AND last_error LIKE ?",
      [JOBS_QUEUE, `%${RANDOM_FAILURE}`],
    ),
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? 0,
    },
    spanMs: count(
      db,
      "SELECT (SELECT max(at_ms) FROM torture_acks) - (SELECT min(at_ms) FROM torture_enqueued) AS n",
    ),
    batch,
    events: count(db, "SELECT count(*) AS n FROM torture_published"),
    subscribers: subs,
    fires,
    readds: count(db, "SELECT count(*) AS n FROM torture_readds"),
    holds: {
      count: Number(holds?.n ?? 0),
      totalMs: Number(holds?.total ?? 0),
      longestMs: Number(holds?.longest ?? 0),
    },
    integrity,
  };
}
