/**
 * The errors `queue.waitFor()` rejects with: the job went to the dead letters, was cancelled or
 * is unknown, or did not finish in time.
 *
 * @module
 */

/**
 * The job `waitFor()` waited on went to the dead letters: its attempts ran out, it was failed,
 * or it expired.
 *
 * @example Tell a failed job from a slow one
 * ```ts ignore
 * try {
 *   const pdf = await reports.waitFor(id, { timeoutMs: 60_000 });
 * } catch (error) {
 *   if (error instanceof JobFailedError) console.log(`failed: ${error.lastError}`);
 * }
 * ```
 */
export class JobFailedError extends Error {
  /** The job id. */
  readonly jobId: number;
  /** Its queue. */
  readonly queue: string;
  /** The error it died with (as in the dead letters), or null. */
  readonly lastError: string | null;

  /** Creates the error for a dead job. */
  constructor(queue: string, jobId: number, lastError: string | null) {
    super(
      `Job ${jobId} of queue ${JSON.stringify(queue)} failed` +
        (lastError ? `: ${lastError}` : " (no error recorded)"),
    );
    this.name = "JobFailedError";
    this.jobId = jobId;
    this.queue = queue;
    this.lastError = lastError;
  }
}

/**
 * The job `waitFor()` was asked about will never finish: it was cancelled (known from its
 * events: on a queue without events a cancelled job looks completed without a result), or the
 * queue has no such job (an id never handed out, or another queue's live or dead job).
 *
 * @example
 * ```ts ignore
 * try {
 *   await queue.waitFor(id);
 * } catch (error) {
 *   if (error instanceof JobNotFoundError && error.reason === "cancelled") retryLater();
 * }
 * ```
 */
export class JobNotFoundError extends Error {
  /** The job id. */
  readonly jobId: number;
  /** The queue. */
  readonly queue: string;
  /** `cancelled`: deleted before it completed; `unknown`: nothing of it is known. */
  readonly reason: "cancelled" | "unknown";

  /** Creates the error for a cancelled or unknown job. */
  constructor(queue: string, jobId: number, reason: "cancelled" | "unknown") {
    super(
      reason === "cancelled"
        ? `Job ${jobId} of queue ${JSON.stringify(queue)} was cancelled`
        : `Job ${jobId} of queue ${JSON.stringify(queue)} is unknown: no such id was handed ` +
          "out, or it is another queue's job",
    );
    this.name = "JobNotFoundError";
    this.jobId = jobId;
    this.queue = queue;
    this.reason = reason;
  }
}

/**
 * `waitFor()`'s `timeoutMs` passed before the job finished (it may still finish later).
 *
 * @example
 * ```ts ignore
 * try {
 *   await queue.waitFor(id, { timeoutMs: 5000 });
 * } catch (error) {
 *   if (error instanceof JobWaitTimeoutError) console.log("still running");
 * }
 * ```
 */
export class JobWaitTimeoutError extends Error {
  /** The job id. */
  readonly jobId: number;
  /** The queue. */
  readonly queue: string;
  /** How long it waited, in milliseconds. */
  readonly timeoutMs: number;

  /** Creates the error for a wait that ran out. */
  constructor(queue: string, jobId: number, timeoutMs: number) {
    super(
      `Job ${jobId} of queue ${JSON.stringify(queue)} did not finish within ${timeoutMs} ms`,
    );
    this.name = "JobWaitTimeoutError";
    this.jobId = jobId;
    this.queue = queue;
    this.timeoutMs = timeoutMs;
  }
}
