/**
 * `_honker_ts_job_options`: what a job was enqueued with that honker's `_honker_live` has no
 * column for — its per-attempt timeout and its retry backoff — keyed by job id, so that every
 * honker-ts process claiming the job honours them. A trigger on `_honker_live` deletes a job's
 * row when the job leaves the live table (ack, dead letter, cancel), whoever deleted it: plain
 * SQL, so it fires for a honker process's writes too and the table never outgrows the queue.
 *
 * @module
 */

/** The table and the trigger that frees its rows. */
export const JOB_OPTIONS_DDL = `CREATE TABLE IF NOT EXISTS _honker_ts_job_options (
      job_id INTEGER PRIMARY KEY,
      timeout_s INTEGER,
      backoff TEXT
    );
CREATE TRIGGER IF NOT EXISTS _honker_ts_job_options_free AFTER DELETE ON _honker_live
    BEGIN DELETE FROM _honker_ts_job_options WHERE job_id = OLD.id; END;`;

/** Options of many jobs. Params: timeoutS, backoff, idsJson. */
export const JOB_OPTIONS_INSERT = `INSERT OR REPLACE INTO _honker_ts_job_options
  (job_id, timeout_s, backoff) SELECT value, ?, ? FROM json_each(?)`;

/** The options of those of many jobs that have any. Params: idsJson. */
export const JOB_OPTIONS_GET_MANY = `SELECT job_id, timeout_s, backoff
  FROM _honker_ts_job_options WHERE job_id IN (SELECT value FROM json_each(?))`;
