/**
 * The worker loop most applications call: one fetcher claims for every idle slot in one
 * statement, handlers run, and each job is acked on success or retried with exponential backoff
 * on a throw (dead letters once attempts run out), with heartbeats for long handlers. On abort it
 * stops claiming and lets in-flight handlers finish within the grace period.
 *
 * Supervision: a busy database never ends the loop (every write here is a background write,
 * retried while busy); an error of the loop itself (not of a handler) stops claiming and every
 * heartbeat, gives the jobs in hand back at once, and only then rejects.
 *
 * @module
 */

import { claimWhenDue } from "./claim.ts";
import type { ClaimOptions, ClaimSource } from "./claim.ts";
import { DatabaseClosedError, isTransientSqliteError } from "./errors.ts";
import type { Job, JobOutcome } from "./job.ts";
import {
  requireCount,
  requireName,
  requireOptions,
  requireSeconds,
  requireTimerMs,
} from "./validate.ts";
import { busyBackoffMs, idlePollMs, retryWhileBusy, SLEEP_CAP_MS } from "./wait_loop.ts";
import type { Waker } from "./waker.ts";

/** Default base of the retry backoff: 5 s, doubling per attempt. */
export const RETRY_DELAY_DEFAULT_S = 5;
/** The backoff never exceeds an hour. */
export const RETRY_DELAY_MAX_S = 3600;
/** Default time in-flight handlers get to finish after abort. */
export const GRACE_DEFAULT_MS = 30_000;

/** What a handler gets besides the job. */
export interface JobContext {
  /**
   * Aborts when the claim was lost (heartbeat refused), the stop grace period ran out, or
   * work() failed and gave the job back.
   */
  signal: AbortSignal;
}

/** Runs one job; throw to retry it. */
export type JobHandler<T> = (job: Job<T>, context: JobContext) => unknown;

/** Options for `queue.work()`. */
export interface WorkOptions extends ClaimOptions {
  /** Handlers running at once. Defaults to 1. */
  concurrency?: number;
  /** The worker id claims are made under. Defaults to a random `work-…` id. */
  workerId?: string;
  /** Base retry delay in seconds; attempt n waits base × 2^(n−1), at most an hour. Default 5. */
  retryDelayS?: number;
  /** Milliseconds in-flight handlers get to finish after abort. Defaults to 30 000. */
  graceMs?: number;
  /**
   * Told about every handler error (the job is retried or dead-lettered either way). An
   * `onError` that throws is reported on the console; it never stops the worker.
   */
  onError?: (error: unknown, job: Job<unknown>) => void;
}

/** What a `work()` run did. */
export interface WorkResult {
  /** Jobs handled and acked. */
  acked: number;
  /** Handler errors that put the job back for a retry. */
  retried: number;
  /** Handler errors on the last attempt: the job went to the dead letters. */
  dead: number;
  /** Jobs whose claim was lost before the ack (expired and taken, or cancelled). */
  lost: number;
}

/** The keys `work()` accepts. */
export const WORK_OPTION_KEYS: readonly (keyof WorkOptions)[] = [
  "concurrency",
  "workerId",
  "retryDelayS",
  "graceMs",
  "onError",
  "idlePollS",
  "signal",
];

/** What work() needs of a queue. */
export interface WorkSource<T> extends ClaimSource<T> {
  readonly visibilityTimeoutS: number;
}

interface WorkSettings<T> {
  action: string;
  handler: JobHandler<T>;
  concurrency: number;
  workerId: string;
  retryDelayS: number;
  graceMs: number;
  idleMs: number;
  onError: WorkOptions["onError"];
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function settings<T>(queueName: string, handler: JobHandler<T>, options?: WorkOptions) {
  const action = `work on queue ${JSON.stringify(queueName)}`;
  if (typeof handler !== "function") {
    throw new TypeError(`Cannot ${action}: the handler must be a function`);
  }
  const opts = requireOptions(options, action, WORK_OPTION_KEYS);
  if (opts.onError !== undefined && typeof opts.onError !== "function") {
    throw new TypeError(`Cannot ${action}: onError must be a function`);
  }
  const s: WorkSettings<T> = {
    action,
    handler,
    concurrency: requireCount(opts.concurrency ?? 1, "concurrency", action),
    workerId: requireName(
      opts.workerId ?? `work-${crypto.randomUUID().slice(0, 8)}`,
      "workerId",
      action,
    ),
    retryDelayS: requireSeconds(opts.retryDelayS ?? RETRY_DELAY_DEFAULT_S, "retryDelayS", action),
    graceMs: requireTimerMs(opts.graceMs ?? GRACE_DEFAULT_MS, "graceMs", action, true),
    idleMs: idlePollMs(opts.idlePollS, action),
    onError: opts.onError,
  };
  return { s, signal: opts.signal };
}

/**
 * How often a running handler's claim is renewed: three times per visibility timeout. The claim
 * is stored in whole seconds (`unixepoch() + timeout`, valid through that second), so a claim
 * made late in a second lasts only just over `timeout` seconds: a third of it leaves two beats of
 * slack. Capped so that a long timeout cannot overflow the timer.
 */
export function heartbeatEveryMs(visibilityTimeoutS: number): number {
  return Math.min(SLEEP_CAP_MS, (visibilityTimeoutS * 1000) / 3);
}

/** Runs `handler` over the queue until `signal` aborts; see `Queue.work()`. */
export async function work<T>(
  queue: WorkSource<T>,
  waker: Waker,
  handler: JobHandler<T>,
  options?: WorkOptions,
): Promise<WorkResult> {
  const { s, signal } = settings(queue.name, handler, options);
  const run = new WorkRun(queue, waker, s);
  return await run.until(signal);
}

/** One `work()` call: the fetcher, the jobs in hand, and their supervision. */
class WorkRun<T> {
  readonly result: WorkResult = { acked: 0, retried: 0, dead: 0, lost: 0 };
  #queue: WorkSource<T>;
  #waker: Waker;
  #s: WorkSettings<T>;
  /** Ends claiming: the caller's abort, or a fatal error. */
  #stop = new AbortController();
  /** Aborted when the grace period after a stop runs out: handlers still running are abandoned. */
  #graceOver = new AbortController();
  #inHand = new Map<Job<T>, { done: AbortController; running: Promise<void> }>();
  #fatal: { error: unknown } | undefined;
  #slotFreed: (() => void) | undefined;

  constructor(queue: WorkSource<T>, waker: Waker, s: WorkSettings<T>) {
    this.#queue = queue;
    this.#waker = waker;
    this.#s = s;
  }

  async until(signal: AbortSignal | undefined): Promise<WorkResult> {
    let graceTimer: ReturnType<typeof setTimeout> | undefined;
    const onStop = () => {
      this.#stop.abort();
      graceTimer ??= setTimeout(() => this.#graceOver.abort(), this.#s.graceMs);
    };
    if (signal?.aborted) onStop();
    else signal?.addEventListener("abort", onStop, { once: true });
    try {
      await this.#fetch().catch((error) => this.#fail(error));
      await this.#drain();
    } finally {
      signal?.removeEventListener("abort", onStop);
      if (graceTimer !== undefined) clearTimeout(graceTimer);
    }
    if (this.#fatal) throw this.#fatal.error;
    return this.result;
  }

  /** The one claimer: waits for due jobs and claims for every idle slot in one statement. */
  async #fetch(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const idle = this.#s.concurrency - this.#inHand.size;
      if (idle <= 0) {
        await this.#nextFreeSlot();
        continue;
      }
      const jobs = await claimWhenDue(this.#queue, this.#waker, this.#s.workerId, idle, {
        idleMs: this.#s.idleMs,
        signal: stop,
      });
      if (jobs === undefined) return;
      for (const job of jobs) this.#start(job);
    }
  }

  #nextFreeSlot(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#slotFreed = undefined;
        this.#stop.signal.removeEventListener("abort", done);
        resolve();
      };
      this.#slotFreed = done;
      this.#stop.signal.addEventListener("abort", done, { once: true });
    });
  }

  #start(job: Job<T>): void {
    const done = new AbortController();
    const entry = { done, running: Promise.resolve() };
    this.#inHand.set(job, entry);
    entry.running = this.#runJob(job, done)
      .catch((error) => this.#fail(error))
      .finally(() => {
        this.#inHand.delete(job);
        this.#slotFreed?.();
      });
  }

  /** Waits for the jobs in hand; after a stop, for at most the grace period. */
  async #drain(): Promise<void> {
    const graceRanOut = new Promise<void>((resolve) => {
      if (this.#graceOver.signal.aborted) resolve();
      else this.#graceOver.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    while (this.#inHand.size > 0 && !this.#graceOver.signal.aborted && !this.#fatal) {
      await Promise.race([...[...this.#inHand.values()].map((e) => e.running), graceRanOut]);
    }
    // Abandoned handlers stop heartbeating: their jobs are reclaimed after the timeout.
    for (const { done } of this.#inHand.values()) {
      done.abort(new Error("work() stopped and the grace period ran out"));
    }
  }

  /**
   * An error of the loop itself: stop claiming and every heartbeat, give every job in hand back
   * (its claim expires now, so it is not left to time out), then let `until()` reject.
   */
  #fail(error: unknown): void {
    if (error instanceof DatabaseClosedError || this.#waker.closed) return; // closed: just end
    if (this.#fatal) return;
    this.#fatal = { error };
    this.#stop.abort();
    for (const [job, { done }] of this.#inHand) {
      done.abort(new Error(`work() failed and gave job ${job.id} back: ${errorText(error)}`));
      try {
        job.inBackground("release");
      } catch {
        // A database that fails here too: the claim lapses at its visibility timeout.
      }
    }
  }

  /** True when the job's result no longer matters: work() gave up on it. */
  #abandoned(): boolean {
    return this.#graceOver.signal.aborted || this.#fatal !== undefined;
  }

  async #runJob(job: Job<T>, done: AbortController): Promise<void> {
    let stopBeating = () => {};
    try {
      const running = this.#s.handler(job, { signal: done.signal });
      // A synchronous handler has finished already: the heartbeat is only for one still
      // running, and is set up after it started, off the path from claim to handler start.
      if (isThenable(running)) {
        stopBeating = this.#heartbeat(job, done);
        await running;
      }
    } catch (error) {
      stopBeating();
      if (this.#abandoned()) return;
      this.#report(error, job);
      await this.#settleRetry(job, error);
      return;
    }
    stopBeating();
    if (this.#abandoned()) return;
    // A handler may have settled the job itself, e.g. acked inside the transaction that wrote
    // its side effects.
    const outcome = await this.#confirmed(job) ??
      (await this.#settle(job, "ack") ? "acked" : "lost");
    if (outcome === "acked") this.result.acked++;
    else if (outcome === "retried") this.result.retried++;
    else if (outcome === "lost" || outcome === "released") this.result.lost++;
    else this.result.dead++;
  }

  /**
   * The handler's own outcome, once it is sure. One it set inside the application's own
   * transaction on the shared connection is checked once that transaction ended: if the job is
   * still held by us, the application rolled its ack (or retry, or fail) back with its other
   * writes, so the job is given back to run again rather than acked by us.
   */
  async #confirmed(job: Job<T>): Promise<JobOutcome | "lost" | null> {
    if (job.outcome === null || !job.outcomeUncertain) return job.outcome;
    try {
      const held = await retryWhileBusy(this.#waker, () => job.inBackground("held"), {
        signal: this.#graceOver.signal,
      });
      if (!held) return job.outcome;
      await retryWhileBusy(this.#waker, () => job.inBackground("release"), {
        giveUpAt: (job.claimExpiresAt + 1) * 1000,
      });
    } catch (error) {
      if (!(error instanceof DatabaseClosedError) && !isTransientSqliteError(error)) throw error;
    }
    return "lost";
  }

  async #settleRetry(job: Job<T>, error: unknown): Promise<void> {
    const delayS = Math.min(RETRY_DELAY_MAX_S, this.#s.retryDelayS * 2 ** (job.attempts - 1));
    const exhausted = job.attempts >= job.maxAttempts;
    const step = { retryDelayS: Math.floor(delayS), error: errorText(error) };
    if (!(await this.#settle(job, step))) this.result.lost++;
    else if (exhausted) this.result.dead++;
    else this.result.retried++;
  }

  /**
   * Acks or retries as a background write, retried while the database is busy until the claim
   * has surely expired (then the write could only report the claim lost). A closed database
   * counts as lost: the claim lapses.
   */
  async #settle(job: Job<T>, step: "ack" | { retryDelayS: number; error: string }) {
    const giveUpAt = (job.claimExpiresAt + 1) * 1000;
    try {
      return await retryWhileBusy(this.#waker, () => job.inBackground(step), { giveUpAt });
    } catch (error) {
      if (error instanceof DatabaseClosedError || isTransientSqliteError(error)) return false;
      throw error;
    }
  }

  /** Renews the claim while the handler runs; returns the function that stops it. */
  #heartbeat(job: Job<T>, done: AbortController): () => void {
    const everyMs = heartbeatEveryMs(this.#queue.visibilityTimeoutS);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let busy = 0;
    const beat = () => {
      try {
        if (!job.inBackground("heartbeat")) {
          done.abort(new Error(`the claim on job ${job.id} was lost`));
          return;
        }
        busy = 0;
      } catch (error) {
        if (error instanceof DatabaseClosedError) return; // the claim simply lapses
        if (!isTransientSqliteError(error)) return this.#fail(error);
        // Busy: try again soon, well before the claim lapses.
        timer = setTimeout(beat, Math.min(everyMs, busyBackoffMs(++busy)));
        return;
      }
      timer = setTimeout(beat, everyMs);
    };
    timer = setTimeout(beat, everyMs);
    const stop = () => clearTimeout(timer);
    done.signal.addEventListener("abort", stop, { once: true });
    return stop;
  }

  /** Tells onError about a handler's error; an onError that throws is reported, never fatal. */
  #report(error: unknown, job: Job<T>): void {
    try {
      this.#s.onError?.(error, job as Job<unknown>);
    } catch (thrown) {
      console.error(`honker-ts: ${this.#s.action}: onError threw`, thrown);
    }
  }
}
