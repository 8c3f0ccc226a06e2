/**
 * The heartbeats of one `work()` run: one timer renews every claim that is due, as BullMQ's lock
 * extender does, instead of a timer, an abort listener and a clear per job. At concurrency 64 a
 * per-job timer cost Deno about 8 % of a drain's CPU time; here starting and ending a job is a
 * `Map` insert and delete.
 *
 * Every job of a run is renewed every `everyMs`, so the job whose renewal is due first is always
 * the one that has waited longest: the map's insertion order is its order of due times (a renewed
 * job moves to the end). A renewal due within `COALESCE_FRACTION` of the interval is made early,
 * with the others, in the same transaction: renewing early only lengthens a claim; never late.
 *
 * @module
 */

import { DatabaseClosedError, isTransientSqliteError } from "../db/errors.ts";
import { busyBackoffMs } from "../wait/wait_loop.ts";
import type { Job } from "./job.ts";

/** Renewals due within this fraction of the interval are made together with the ones due now. */
const COALESCE_FRACTION = 1 / 8;

/** What the heartbeats need of their run. */
export interface HeartbeatHost {
  /** Runs `beats` as one background write in one transaction. */
  batchInBackground<R>(beats: () => R): R;
  /** An error that is neither busy nor a closed database: the run fails. */
  fail(error: unknown): void;
}

interface Beat {
  /** Aborted with the reason when the claim is lost; an aborted job is no longer renewed. */
  done: AbortController;
  /** `performance.now()` at which the claim is due for renewal. */
  dueAt: number;
}

/** One run's claim renewals, on one timer. */
export class Heartbeats<T> {
  #everyMs: number;
  #host: HeartbeatHost;
  #beats = new Map<Job<T>, Beat>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Renewals in a row that met a busy database. */
  #busy = 0;

  constructor(everyMs: number, host: HeartbeatHost) {
    this.#everyMs = everyMs;
    this.#host = host;
  }

  /** Renews `job`'s claim every interval from now until `remove()`, or until `done` aborts. */
  add(job: Job<T>, done: AbortController): void {
    // A job claimed ahead is renewed from its claim on: starting it keeps its place in line.
    if (this.#beats.has(job)) return;
    const dueAt = performance.now() + this.#everyMs;
    this.#beats.set(job, { done, dueAt });
    // Every other job is due no later than this one: a timer already set is early enough.
    if (this.#timer === undefined) this.#arm(dueAt);
  }

  /**
   * Stops renewing `job`. The timer is left to run out: with nothing due it does not re-arm,
   * and a job starting meanwhile reuses it instead of setting one of its own.
   */
  remove(job: Job<T>): void {
    this.#beats.delete(job);
  }

  /** Stops every renewal and the timer: the run is over, or the database closed. */
  stopAll(): void {
    this.#beats.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(dueAt: number): void {
    this.#timer = setTimeout(() => this.#beat(), Math.max(0, dueAt - performance.now()));
  }

  #beat(): void {
    this.#timer = undefined;
    const now = performance.now();
    const due: [Job<T>, Beat][] = [];
    for (const entry of this.#beats) {
      if (entry[1].dueAt > now + this.#everyMs * COALESCE_FRACTION) break;
      if (entry[1].done.signal.aborted) this.#beats.delete(entry[0]);
      else due.push(entry);
    }
    if (due.length > 0 && !this.#renew(due, now)) return;
    const next = this.#beats.values().next();
    if (!next.done) this.#arm(next.value.dueAt);
  }

  /** Renews `due` in one transaction; false when the run must not beat again now. */
  #renew(due: [Job<T>, Beat][], now: number): boolean {
    let renewed: boolean[];
    const renewAll = () => due.map(([job]) => job.inBackground("heartbeat"));
    try {
      // One renewal is one autocommit statement, where a transaction costs three.
      renewed = due.length === 1 ? renewAll() : this.#host.batchInBackground(renewAll);
      this.#busy = 0;
    } catch (error) {
      if (error instanceof DatabaseClosedError) {
        this.stopAll(); // the claims simply lapse
      } else if (isTransientSqliteError(error)) {
        // Busy: try again soon, well before the claims lapse; they stay first in line.
        this.#arm(now + Math.min(this.#everyMs, busyBackoffMs(++this.#busy)));
      } else {
        this.stopAll();
        this.#host.fail(error);
      }
      return false;
    }
    due.forEach(([job, beat], i) => {
      this.#beats.delete(job);
      if (renewed[i]) {
        beat.dueAt = now + this.#everyMs;
        this.#beats.set(job, beat);
      } else {
        beat.done.abort(new Error(`the claim on job ${job.id} was lost`));
      }
    });
    return true;
  }
}
