/**
 * The waits parked on one Database's {@linkcode Waker}: which of them a change of each kind
 * settles, whether any wants other processes' commits (the watcher sleeps when none does), and
 * the timer that keeps the process alive while any waits.
 *
 * @module
 */

/** Why a wait ended. */
export type WakeReason = "change" | "timeout" | "abort";

/**
 * What woke the waiters: this process's quiet write (a claim, an ack), another connection's
 * commit or a poll, or a commit made through this Database.
 */
export type WakeKind = "quiet" | "change" | "local";

/** One parked wait. */
export interface Waiter {
  /** Settled by quiet writes too (`WakeWaitOptions.quiet`). */
  quiet: boolean;
  /** Settled by this process's commits only (`WakeWaitOptions.localOnly`). */
  localOnly: boolean;
  /** Whether it wants other processes' commits (every wait but a backoff or a local-only one). */
  watched: boolean;
  settle(reason: WakeReason): void;
  fail(error: Error): void;
}

/**
 * The set of parked waits. While any is parked, a referenced timer keeps the process alive (a
 * worker waiting for jobs is doing its job); with none, nothing is referenced, so an idle
 * Database never keeps a process alive.
 */
export class Waiters {
  #waiters = new Set<Waiter>();
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /** Parked waiters that want other processes' commits. */
  #watched = 0;
  #onWatched: Array<(watched: boolean) => void> = [];

  /** How many waits are parked. */
  get size(): number {
    return this.#waiters.size;
  }

  /** Parks `waiter`. Last in `wait()`: telling the watcher may settle it at once. */
  add(waiter: Waiter): void {
    this.#waiters.add(waiter);
    this.#updateKeepAlive();
    if (waiter.watched && this.#watched++ === 0) this.#tellWatched(true);
  }

  /** Unparks `waiter` (settled, failed, timed out or aborted); a second call does nothing. */
  delete(waiter: Waiter): void {
    const parked = this.#waiters.delete(waiter);
    this.#updateKeepAlive();
    if (parked && waiter.watched && --this.#watched === 0) this.#tellWatched(false);
  }

  /** Whether a parked wait asked for quiet writes (only then is one worth a microtask). */
  anyQuiet(): boolean {
    for (const waiter of this.#waiters) if (waiter.quiet) return true;
    return false;
  }

  /**
   * Settles the waits a change of this kind concerns: a quiet write only those that asked for
   * them, another connection's commit (or a poll's) all but `localOnly` ones, a local commit all.
   */
  wake(kind: WakeKind): void {
    for (const waiter of [...this.#waiters]) {
      if (kind === "quiet" ? waiter.quiet : kind === "local" || !waiter.localOnly) {
        waiter.settle("change");
      }
    }
  }

  /** Settles every parked wait with `reason`. */
  settleAll(reason: WakeReason): void {
    for (const waiter of [...this.#waiters]) waiter.settle(reason);
  }

  /** Fails every parked wait with `error`. */
  failAll(error: Error): void {
    for (const waiter of [...this.#waiters]) waiter.fail(error);
  }

  /**
   * Registers `fn`, told `true` when a wait that wants other processes' commits is parked while
   * none is, and `false` when the last such wait ends.
   */
  onWatched(fn: (watched: boolean) => void): void {
    this.#onWatched.push(fn);
  }

  #tellWatched(watched: boolean): void {
    for (const fn of this.#onWatched) fn(watched);
  }

  #updateKeepAlive(): void {
    if (this.#waiters.size > 0 && this.#keepAlive === undefined) {
      this.#keepAlive = setInterval(() => {}, 1 << 30);
    } else if (this.#waiters.size === 0 && this.#keepAlive !== undefined) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }
}
