/**
 * Standby: a `work()` run that keeps losing the race for jobs to other processes stops answering
 * every commit, and reads the WAL index header once a millisecond instead.
 *
 * Several processes sharing a queue under steady load all wake for every commit: each enqueue,
 * and each other worker's claim and ack. One of them takes the job; the others pay a wake and a
 * look for nothing, on the CPU that the winner and the producer need (three commits per job, on
 * every process). A run whose wakes in quick succession found nothing goes on standby: its
 * fetcher waits `STANDBY_POLL_MS` at a time, ended only by this process's own commits
 * (`WakeWaitOptions.localOnly`, which lets the file watch sleep), and looks only when the header
 * moved in that time: one look for every commit of the millisecond. The run that keeps finding
 * jobs stays awake and answers at once; a poll on standby that finds jobs is how a slow or dead
 * one is covered. Nothing is missed: a poll reads the header itself, any commit changes it, and
 * deadlines end the wait as before.
 *
 * Measured at 1,000 jobs/s on 4 processes × 8 (`bench/ab.ts --case=load-latency`, 5–6
 * pairs, against the commit before): CPU per job −5 % (Node) to −14 % (Deno, Bun), p99 −7 %
 * to −27 %, statements per job 4.4 against 5.3 (Node) and 2.9 against 4.0 (Deno); Node's p50
 * 0.02 ms higher (a standby poll now and then takes a job a few hundred microseconds later
 * than the awake process would have).
 *
 * @module
 */

/** How long a run on standby waits between reads of the WAL index header (milliseconds). */
export const STANDBY_POLL_MS = 1;
/**
 * Wasted wakes in a row (each for another connection's commit, its claim took nothing) that put
 * a run on standby.
 */
export const STANDBY_AFTER_WASTED_WAKES = 4;
/**
 * The longest gap between two wasted wakes that still counts them as in a row (milliseconds):
 * standby pays only where commits come faster than its polls. A queue woken by other tables'
 * commits now and then keeps answering them by event.
 */
export const STANDBY_WASTED_GAP_MS = 2;
/** Polls in a row that saw no commit at all: commits slowed down, back to waiting for them. */
export const STANDBY_QUIET_POLLS = 8;
/** Polls in a row whose claim took jobs: nobody else is taking them, answer commits again. */
export const STANDBY_WINS = 3;

/** One run's standby state, fed by its fetcher. Holds no timer and does no I/O. */
export class Standby {
  #on = false;
  #wasted = 0;
  #lastWastedAtMs = -Infinity;
  #quietPolls = 0;
  #wins = 0;

  /** Whether the run is on standby: its idle waits are polls of `STANDBY_POLL_MS`. */
  get on(): boolean {
    return this.#on;
  }

  /**
   * A wake for another connection's commit (or a poll on standby that saw one) was answered by
   * a claim that took `took` jobs, at `nowMs` (`performance.now()`).
   */
  claimed(took: number, nowMs: number): void {
    if (took > 0) {
      this.#wasted = 0;
      if (this.#on && ++this.#wins >= STANDBY_WINS) this.leave();
      return;
    }
    this.#wins = 0;
    if (this.#on) return;
    const inRow = nowMs - this.#lastWastedAtMs <= STANDBY_WASTED_GAP_MS;
    this.#wasted = inRow ? this.#wasted + 1 : 1;
    this.#lastWastedAtMs = nowMs;
    if (this.#wasted >= STANDBY_AFTER_WASTED_WAKES) {
      this.#on = true;
      this.#quietPolls = 0;
    }
  }

  /** A poll on standby ended: `committed` when the header moved since the last look. */
  polled(committed: boolean): void {
    if (committed) this.#quietPolls = 0;
    else if (++this.#quietPolls >= STANDBY_QUIET_POLLS) this.leave();
  }

  /** Back to waiting for commits (also when a poll cannot read the header). */
  leave(): void {
    this.#on = false;
    this.#wasted = 0;
    this.#wins = 0;
    this.#quietPolls = 0;
  }
}
