/**
 * Torture role: `queue.work()` over the jobs queue with random handler times and random
 * failures. A successful handler acks inside `db.transaction()` together with the row that
 * records the ack, so an ack and its record commit or vanish together, even under SIGKILL. That
 * transaction is the application's own call: it waits out a locker's hold (the role's
 * busyTimeoutMs is longer than any hold), and the visibility timeout outlives one too.
 *
 * ```sh
 * <runtime> tests/torture/worker.ts <db> <name> '{"busyTimeoutMs":10000,"visibilityTimeoutS":10}'
 * ```
 *
 * @module
 */

import process from "node:process";
import { runRole } from "./_role.ts";
import { sleep } from "../../core/wait/sleep.ts";
import {
  ACK_INSERT,
  HANDLER_MAX_MS,
  JOBS_QUEUE,
  MAX_ATTEMPTS,
  RANDOM_FAILURE,
  THROW_INSERT,
  THROW_PROBABILITY,
} from "./_shared.ts";
import type { JobPayload, RoleTuning } from "./_shared.ts";
import type { WorkResult } from "../../mod.ts";

/** What a worker did, besides what it recorded in the file. */
interface WorkerStats {
  acked: number;
  threw: number;
  /** Acks refused inside the handler: the claim had lapsed and was (or will be) redelivered. */
  lostClaims: number;
  /** Handler errors other than the deliberate ones (SQLITE_BUSY, …). */
  otherErrors: string[];
  /** What `work()` itself counted (it sees the handler's own acks as lost claims). */
  work?: WorkResult;
}

await runRole<RoleTuning, WorkerStats>(async ({ db, name, config, signal }) => {
  const workerId = `${name}-${process.pid}`;
  const jobs = db.queue<JobPayload>(JOBS_QUEUE, {
    visibilityTimeoutS: config.visibilityTimeoutS,
    maxAttempts: MAX_ATTEMPTS,
  });
  const stats: WorkerStats = { acked: 0, threw: 0, lostClaims: 0, otherErrors: [] };
  stats.work = await jobs.work(async (job) => {
    await sleep(Math.random() * HANDLER_MAX_MS);
    if (Math.random() < THROW_PROBABILITY) {
      db.transaction((tx) => tx.run(THROW_INSERT, [job.id, workerId, job.attempts]));
      stats.threw++;
      throw new Error(RANDOM_FAILURE);
    }
    // ack() runs on the same connection, so it joins this transaction; work()'s own ack after
    // the handler then finds nothing to delete.
    db.transaction((tx) => {
      if (!job.ack()) {
        stats.lostClaims++;
        return;
      }
      tx.run(ACK_INSERT, [job.payload.id, job.id, workerId, job.attempts, Date.now()]);
      stats.acked++;
    });
  }, {
    workerId,
    retryDelayS: 0,
    graceMs: 5_000,
    signal,
    onError: (error) => {
      const text = String((error as Error)?.message ?? error);
      if (text !== RANDOM_FAILURE && stats.otherErrors.length < 20) stats.otherErrors.push(text);
    },
  });
  return stats;
});
