/**
 * Torture role: `queue.work()` over the batch queue with several slots and as many jobs claimed
 * ahead (`prefetch`), whose handler only
 * returns a value or throws, so that `work()` itself completes every job: the acks (with the
 * return value as the job's result) and retries of handlers that finished in the same macrotask
 * commit together with its next claim. The queue has events on, so every ack leaves a
 * `completed` event, every retry a `failed` and a `retried` one, every dead letter a `dead` one.
 *
 * Each handler run is recorded in `torture_batch_runs` in its own transaction, never in the
 * ack's: a row when it starts, and its outcome (`returned` or `threw`) just before it returns or
 * throws. Those rows commit even when the batched outcome that follows never does (a SIGKILL
 * between a handler's end and the flush), which is what lets the check tell a run whose outcome
 * was lost from one that completed the job.
 *
 * With `selfKillProbability` per returned handler, or once the driver wrote `self-kill` to its
 * stdin (it prints `listening` once it reads it), the process SIGKILLs itself as that handler returns: in a microtask the handler queued,
 * so after its last write and before work() commits its outcome (which needs a later macrotask),
 * with the outcomes of the handlers that finished earlier in the same turn waiting for that
 * commit too. It prints `self-kill` first, so the driver restarts it as one it killed. The jobs,
 * acked in memory only, must run again and complete once.
 *
 * Half of the handlers return at once, the others after a random sleep: handlers of one claim
 * that return at once finish in the same macrotask and share one commit.
 *
 * ```sh
 * <runtime> tests/torture/batch_worker.ts <db> <name> '{"selfKillProbability":0.002,"busyTimeoutMs":10000,"visibilityTimeoutS":10}'
 * ```
 *
 * @module
 */

import process from "node:process";
import { runRole, say } from "./_role.ts";
import { sleep } from "../../core/wait/sleep.ts";
import {
  BATCH_CONCURRENCY,
  BATCH_PREFETCH,
  BATCH_QUEUE,
  BATCH_RUN_END,
  BATCH_RUN_INSERT,
  HANDLER_MAX_MS,
  LISTENING,
  MAX_ATTEMPTS,
  RANDOM_FAILURE,
  SELF_KILL,
  THROW_PROBABILITY,
} from "./_shared.ts";
import type { BatchResult, BatchWorkerConfig, JobPayload } from "./_shared.ts";
import type { WorkResult } from "../../mod.ts";

/** What a batch worker did, besides what it recorded in the file. */
interface BatchWorkerStats {
  runs: number;
  returned: number;
  threw: number;
  /** Handler errors other than the deliberate ones (SQLITE_BUSY, …). */
  otherErrors: string[];
  /** What `work()` counted: acked, retried, dead and lost outcomes. */
  work?: WorkResult;
}

await runRole<BatchWorkerConfig, BatchWorkerStats>(async ({ db, name, config, signal }) => {
  const workerId = `${name}-${process.pid}`;
  const jobs = db.queue<JobPayload>(BATCH_QUEUE, {
    visibilityTimeoutS: config.visibilityTimeoutS,
    maxAttempts: MAX_ATTEMPTS,
    events: true,
    // Results never expire, so every completed job's result must be there at the check.
    resultTtlS: 0,
  });
  const stats: BatchWorkerStats = { runs: 0, returned: 0, threw: 0, otherErrors: [] };
  const end = (outcome: "returned" | "threw", jobId: number, attempt: number) =>
    db.transaction((tx) => tx.run(BATCH_RUN_END, [outcome, Date.now(), jobId, attempt, workerId]));
  let asked = false;
  process.stdin.on("data", (chunk) => (asked ||= String(chunk).includes(SELF_KILL)));
  // The driver asks only once this listener is there (a `self-kill` line read with `go` is lost).
  say(LISTENING);
  stats.work = await jobs.work(async (job): Promise<BatchResult> => {
    db.transaction((tx) => tx.run(BATCH_RUN_INSERT, [job.id, workerId, job.attempts, Date.now()]));
    stats.runs++;
    if (Math.random() < 0.5) await sleep(Math.random() * HANDLER_MAX_MS);
    else await null;
    if (Math.random() < THROW_PROBABILITY) {
      end("threw", job.id, job.attempts);
      stats.threw++;
      throw new Error(RANDOM_FAILURE);
    }
    end("returned", job.id, job.attempts);
    stats.returned++;
    if (!signal.aborted && (asked || Math.random() < config.selfKillProbability)) {
      say(SELF_KILL);
      queueMicrotask(() => process.kill(process.pid, "SIGKILL"));
    }
    return { payloadId: job.payload.id, attempt: job.attempts, worker: workerId };
  }, {
    workerId,
    concurrency: BATCH_CONCURRENCY,
    prefetch: BATCH_PREFETCH,
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
