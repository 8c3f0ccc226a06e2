/**
 * One `work()` call at run time: the slots, the jobs in hand, and their supervision. Claims and
 * outcomes go through the run's one fetcher (`work_fetcher.ts`); claims are renewed on the run's
 * one heartbeat timer (`work_heartbeats.ts`); jobs claimed ahead wait in its hold
 * (`work_prefetch.ts`); each job's handler and outcome is its turn (`work_job.ts`); jobs go back
 * to the queue through `work_give_back.ts`. A busy database never ends the run; an error of the
 * run itself (not of a handler) stops claiming and every heartbeat, gives the jobs in hand back
 * at once, and only then rejects.
 *
 * @module
 */

import { DatabaseClosedError } from "../db/errors.ts";
import type { Job } from "./job.ts";
import type { Waker } from "../wait/waker.ts";
import { Fetcher } from "./work_fetcher.ts";
import { heartbeatEveryMs } from "./work_types.ts";
import { Heartbeats } from "./work_heartbeats.ts";
import { RunOptionsCache } from "./job_options.ts";
import { PrefetchHold } from "./work_prefetch.ts";
import type { PrefetchedJob } from "./work_prefetch.ts";
import { giveBackHeld, giveBackHeldNow, releaseAbandoned } from "./work_give_back.ts";
import { errorText, runJobTurn } from "./work_job.ts";
import type { JobTurnHost } from "./work_job.ts";
import type { WorkResult, WorkSettings, WorkSource } from "./work_types.ts";

/** One `work()` call: its fetcher, the jobs in hand, and their supervision. */
export class WorkRun<T> {
  readonly result: WorkResult = { acked: 0, retried: 0, dead: 0, lost: 0 };
  #waker: Waker;
  #s: WorkSettings<T>;
  /** Ends claiming: the caller's abort, or a fatal error. */
  #stop = new AbortController();
  /** Aborted when the grace period after a stop runs out: handlers still running are abandoned. */
  #graceOver = new AbortController();
  /** Jobs claimed and not yet settled: handler running, or outcome waiting for its commit. */
  #inHand = new Map<Job<T>, { done: AbortController; running: Promise<void> }>();
  /** Handlers running now; a slot is free again as soon as its handler returns. */
  #running = 0;
  /** The jobs whose handler is running (not yet returned, thrown or timed out). */
  #handling = new Set<Job<T>>();
  /** Jobs given back unfinished after the grace period ran out. */
  released = 0;
  #paused = false;
  /** Whether `drained` was told since the last job started. */
  #drainedTold = false;
  /** A claim found nothing more due while jobs were held: `drained` waits for the hold to empty. */
  #drainedOnceHeldRun = false;
  #runOptions: RunOptionsCache;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set once `until()` has returned or thrown: a later stop() has nothing to wait for. */
  #ended = false;
  #fatal: { error: unknown } | undefined;
  #fetcher: Fetcher<T>;
  #heartbeats: Heartbeats<T>;
  /** Jobs claimed ahead of the free slots (`prefetch`), not started yet. */
  #held: PrefetchHold<T>;
  /** Held jobs being given back (after a pause or a stop); each leaves the set once settled. */
  #givingBack = new Set<Promise<void>>();
  /** What each job's turn (`work_job.ts`) needs of this run. */
  #turnHost: JobTurnHost<T>;

  constructor(queue: WorkSource<T>, waker: Waker, s: WorkSettings<T>) {
    this.#waker = waker;
    this.#s = s;
    this.#runOptions = new RunOptionsCache((ids) => queue.jobRunOptions(ids));
    this.#fetcher = new Fetcher(queue, waker, {
      idleSlots: () =>
        this.#claiming() ? this.#held.toClaim(this.#s.concurrency - this.#running) : 0,
      finished: () => this.#stop.signal.aborted && this.#inHand.size === 0 && this.#held.size === 0,
      start: (job, runOptions) => {
        this.#drainedOnceHeldRun = false; // this claim's own look decides, after its jobs
        this.#held.claimed(job, runOptions);
      },
      lookedShort: () => this.#drained(),
    }, { workerId: s.workerId, idleMs: s.idleMs });
    this.#heartbeats = new Heartbeats(heartbeatEveryMs(queue.visibilityTimeoutS), {
      batchInBackground: (beats) => queue.batchInBackground(beats),
      fail: (error) => this.#fail(error),
    });
    this.#held = new PrefetchHold(s.prefetch, this.#heartbeats, {
      slotFree: () => this.#running < this.#s.concurrency,
      canStart: () => this.#claiming() && this.#running < this.#s.concurrency,
      start: ({ job, runOptions, done }) => this.#start(job, runOptions, done),
      lost: (job) => {
        this.result.lost++;
        this.#s.observer?.lost(job);
      },
    });
    this.#turnHost = {
      settings: s,
      waker,
      heartbeats: this.#heartbeats,
      runOptions: this.#runOptions,
      resultTtlS: queue.resultTtlS,
      result: this.result,
      graceOver: this.#graceOver.signal,
      handlerEnded: (job) => this.#handlerEnded(job),
      abandoned: () => this.#abandoned(),
      // Through the fetcher, which commits it with the others ready at the same moment,
      // retried while the database is busy until the claim has surely expired (then the write
      // could only report the claim lost). A closed database counts as lost: the claim lapses.
      settle: (job, step) => this.#fetcher.complete(job, step),
    };
  }

  /** Whether the run may claim or start held jobs: neither paused nor stopped. */
  #claiming(): boolean {
    return !this.#paused && !this.#stop.signal.aborted;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs claimed ahead (`prefetch`) and not started yet. */
  get held(): number {
    return this.#held.size;
  }

  /** Whether claiming is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Whether the run was told to stop (or failed). */
  get stopping(): boolean {
    return this.#stop.signal.aborted;
  }

  /** Stops claiming; running handlers go on. Returns false when already paused or stopping. */
  pause(): boolean {
    if (this.#paused || this.#stop.signal.aborted) return false;
    this.#paused = true;
    // After the claim being handed out, if any: a handler may pause its worker from inside it,
    // and the claim's remaining jobs are held after this call returns.
    queueMicrotask(() => this.#paused && this.#giveBackHeld());
    return true;
  }

  /** Claims again at once, without waiting for a commit or the idle poll. */
  resume(): boolean {
    if (!this.#paused) return false;
    this.#paused = false;
    this.#held.pump(); // jobs held while paused, if the pause had not given them back yet
    this.#fetcher.lookAgain();
    return true;
  }

  /**
   * Stops claiming and gives running handlers `graceMs` to finish; the jobs of those still
   * running then are given back. The first call's grace period counts.
   */
  stop(graceMs: number = this.#s.graceMs): void {
    if (this.#ended) return;
    this.#stop.abort();
    this.#giveBackHeld();
    this.#fetcher.kick();
    this.#graceTimer ??= setTimeout(() => this.#graceOver.abort(), graceMs);
  }

  async until(signal: AbortSignal | undefined): Promise<WorkResult> {
    const onStop = () => this.stop();
    if (signal?.aborted) onStop();
    else signal?.addEventListener("abort", onStop, { once: true });
    // The fetcher also ends when the database is closed under the run: that stops it too.
    const fetching = this.#fetcher.run().catch((error) => this.#fail(error))
      .finally(() => this.#stop.abort());
    try {
      await stopped(this.#stop.signal);
      this.#giveBackHeld(); // the run may have stopped on its own (the database closed)
      await this.#drain();
      await Promise.all(this.#givingBack);
      this.#fetcher.kick();
      await fetching;
    } finally {
      signal?.removeEventListener("abort", onStop);
      this.#ended = true;
      this.#heartbeats.stopAll();
      if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    }
    if (this.#fatal) throw this.#fatal.error;
    return this.result;
  }

  /** Gives every held job back, pending again as if never claimed (a pause or a stop). */
  #giveBackHeld(): void {
    if (this.#held.size === 0) return;
    const held = this.#held.takeAll();
    const giving = giveBackHeld(this.#waker, held, (e) => this.#s.observer?.error(e))
      .finally(() => this.#givingBack.delete(giving));
    this.#givingBack.add(giving);
  }

  #start(
    job: Job<T>,
    runOptions: PrefetchedJob<T>["runOptions"],
    done: AbortController,
  ): void {
    const entry = { done, running: Promise.resolve() };
    this.#inHand.set(job, entry);
    this.#handling.add(job);
    this.#runOptions.started(job.id, runOptions);
    this.#drainedTold = false;
    this.#running++;
    entry.running = runJobTurn(this.#turnHost, job, done)
      .catch((error) => this.#fail(error))
      .finally(() => {
        this.#runOptions.ended(job.id);
        this.#inHand.delete(job);
        this.#fetcher.kick();
      });
  }

  /**
   * Nothing more was due: tells the observer once per stretch of work, once every job claimed
   * has been handed to a handler (a held job is still waiting).
   */
  #drained(): void {
    this.#drainedOnceHeldRun = this.#held.size > 0;
    if (this.#drainedOnceHeldRun || this.#drainedTold) return;
    this.#drainedTold = true;
    this.#s.observer?.drained();
  }

  /** The handler returned or threw: its slot takes the next job while its outcome commits. */
  #handlerEnded(job: Job<T>): void {
    this.#handling.delete(job);
    this.#running--;
    if (this.#held.size > 0) {
      this.#held.pump();
      if (this.#held.size === 0 && this.#drainedOnceHeldRun) this.#drained();
    }
    this.#fetcher.kick();
  }

  /**
   * Waits for the jobs in hand; after a stop, for at most the grace period. Then handlers still
   * running are abandoned: each is told to stop and its job given back at once, claimable by
   * any worker; the outcomes of those that ended in time commit as usual.
   */
  async #drain(): Promise<void> {
    const graceRanOut = new Promise<void>((resolve) => {
      if (this.#graceOver.signal.aborted) resolve();
      else this.#graceOver.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    while (this.#inHand.size > 0 && !this.#graceOver.signal.aborted && !this.#fatal) {
      await Promise.race([...[...this.#inHand.values()].map((e) => e.running), graceRanOut]);
    }
    if (this.#fatal) return; // #fail() gave every job back
    const abandoned = [...this.#inHand].filter(([job]) => this.#handling.has(job));
    for (const [job, { done }] of abandoned) {
      done.abort(new Error("work() stopped and the grace period ran out"));
      this.#inHand.delete(job);
    }
    const report = (error: unknown) => this.#s.observer?.error(error);
    const released = await Promise.all(
      abandoned.map(([job]) => releaseAbandoned(this.#waker, job, report)),
    );
    this.released += released.filter(Boolean).length;
    await Promise.all([...this.#inHand.values()].map((entry) => entry.running));
  }

  /**
   * An error of the loop itself: stop claiming and every heartbeat, give every job in hand back
   * (its claim expires now, so it is not left to time out), then let `until()` reject.
   */
  #fail(error: unknown): void {
    if (error instanceof DatabaseClosedError || this.#waker.closed) return; // closed: just end
    if (this.#fatal) return;
    this.#fatal = { error };
    this.#s.observer?.error(error);
    this.#stop.abort();
    this.#heartbeats.stopAll();
    // Outcomes not yet committed are dropped: their jobs are given back below.
    this.#fetcher.halt();
    giveBackHeldNow(this.#held.takeAll());
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
}

/** Resolves once `signal` aborts. */
function stopped(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}
