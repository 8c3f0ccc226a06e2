/**
 * The jobs a `work()` run claimed ahead of its free slots (`prefetch`), graphile-worker's local
 * queue in small: held in claim order with their claims renewed on the run's heartbeat timer,
 * handed to slots as they free up, and given back (`work_give_back.ts`), pending again as if
 * never claimed, when the run pauses or stops.
 *
 * Why: with several processes on one file, each transaction pays for the pages other processes
 * changed since its last one, so fewer, larger claims and ack batches per process are what lift
 * their throughput, and a run's batch is otherwise capped by its free slots.
 *
 * @module
 */

import type { Job } from "./job.ts";
import type { JobRunOptions } from "./job_options.ts";
import type { Heartbeats } from "./work_heartbeats.ts";

/** A job claimed ahead and not started yet. */
export interface PrefetchedJob<T> {
  job: Job<T>;
  /** The run options its claim returned, if any. */
  runOptions: ReadonlyMap<number, JobRunOptions | undefined> | undefined;
  /** Aborted by the heartbeat timer when the claim was lost while held; the handler's signal. */
  done: AbortController;
}

/** What the hold needs of its run. */
export interface HoldHost<T> {
  /** Whether a slot is free. */
  slotFree(): boolean;
  /** Whether a slot is free and the run neither paused nor stopped: a held job may start. */
  canStart(): boolean;
  /** Starts a held job in a free slot. */
  start(held: PrefetchedJob<T>): void;
  /** A held job whose claim was lost (its renewal refused): it never starts. */
  lost(job: Job<T>): void;
}

/** One run's held jobs, first claimed first out. */
export class PrefetchHold<T> {
  #prefetch: number;
  #heartbeats: Heartbeats<T>;
  #host: HoldHost<T>;
  #jobs: PrefetchedJob<T>[] = [];
  /** The index of the next job out: a large hold is not shifted job by job. */
  #head = 0;
  /** Set while `pump()` runs: a handler ending inside it leaves the refill to that loop. */
  #pumping = false;

  constructor(prefetch: number, heartbeats: Heartbeats<T>, host: HoldHost<T>) {
    this.#prefetch = prefetch;
    this.#heartbeats = heartbeats;
    this.#host = host;
  }

  /** Jobs held now. */
  get size(): number {
    return this.#jobs.length - this.#head;
  }

  /** Jobs the next claim may take with `free` slots free: those, plus room in the hold. */
  toClaim(free: number): number {
    return free > 0 ? Math.max(0, free + this.#prefetch - this.size) : 0;
  }

  /**
   * A claimed job: a free slot starts it, or it waits behind the jobs held before it. A pause or
   * a stop only ends claiming: a job its claim handed out while a slot is free still starts, as
   * without prefetch (a handler may pause its own worker while its claim hands out the rest).
   */
  claimed(job: Job<T>, runOptions: PrefetchedJob<T>["runOptions"]): void {
    const done = new AbortController();
    if (this.size === 0 && this.#host.slotFree()) {
      this.#host.start({ job, runOptions, done });
      return;
    }
    this.#jobs.push({ job, runOptions, done });
    this.#heartbeats.add(job, done);
  }

  /**
   * Starts held jobs while slots are free. A loop, not a recursion: a synchronous handler ends
   * inside `start()`, and its slot is refilled by the next turn of this loop.
   */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.size > 0 && this.#host.canStart()) {
        const next = this.#take();
        if (next !== undefined) this.#host.start(next);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Empties the hold, renewals stopped, for the jobs to be given back: returns those whose claims
   * are still ours; those lost meanwhile go to `lost()`.
   */
  takeAll(): PrefetchedJob<T>[] {
    const all = this.#jobs.slice(this.#head);
    this.#jobs = [];
    this.#head = 0;
    for (const { job } of all) this.#heartbeats.remove(job);
    return all.filter((held) =>
      held.done.signal.aborted ? (this.#host.lost(held.job), false) : true
    );
  }

  /** The next held job if its claim is still ours; one lost meanwhile goes to `lost()`. */
  #take(): PrefetchedJob<T> | undefined {
    const next = this.#jobs[this.#head++];
    if (this.#head === this.#jobs.length) this.#jobs = [], this.#head = 0;
    if (!next.done.signal.aborted) return next;
    this.#heartbeats.remove(next.job);
    this.#host.lost(next.job);
    return undefined;
  }
}
