/**
 * The wake-up hub of one Database: waiters park here, and change sources (local commits, the
 * cross-process watcher in `wake/`) wake them. A wake is a hint, never data: consumers always
 * re-run their indexed SELECT after one.
 *
 * @module
 */

import type { WatcherDiedError } from "../db/errors.ts";
import { type Waiter, Waiters, type WakeReason } from "./waiters.ts";

export type { WakeReason };

/** Options for {@linkcode Waker.wait}. */
export interface WakeWaitOptions {
  /** Give up after this many milliseconds; undefined waits for a change (or abort) only. */
  timeoutMs?: number;
  /** Ends the wait with "abort". */
  signal?: AbortSignal;
  /**
   * A `seq` read before the caller last looked at the database: when a change has been seen
   * since, the wait returns "change" at once, so a commit landing between "found nothing" and
   * "start waiting" is never lost.
   */
  since?: number;
  /**
   * Also wake on this process's quiet writes (claims, acks), which never make anything a
   * waiting loop looks for appear; `since` is then compared with `allSeq`. Only change feeds
   * (`db.updates()`) ask for them.
   */
  quiet?: boolean;
  /**
   * A busy backoff: a commit still ends it early, but it does not keep the cross-process
   * watcher awake (see {@linkcode Waker.onWatched}); it ends on its timeout anyway.
   */
  backoff?: boolean;
  /**
   * Ends only on this process's own commits through this Database (besides the timeout and
   * abort), not on other connections' commits, and does not keep the watcher awake: the caller
   * finds those itself (a `work()` run on standby reads the WAL index header after each poll).
   */
  localOnly?: boolean;
}

/** After the watcher died, waits poll at this cadence at the slowest. */
export const DEAD_WATCHER_POLL_MS = 500;

/**
 * Parks waiters and wakes them (the parked waits themselves, and what keeps the process alive
 * while they wait, are {@linkcode Waiters}), and counts the changes seen, so that a look can
 * tell whether a change came after it.
 */
export class Waker {
  #seq = 0;
  #quietSeq = 0;
  /** performance.now() at the last `notifyLocal()`. */
  #localWriteAt = -Infinity;
  /** `seq` at the last change that did not come with the data_version it was confirmed at. */
  #unversionedSeq = 0;
  /** Where the last change confirmed as another process's commit was seen (see `changed`). */
  #version: number | undefined;
  #waiters = new Waiters();
  #dead: WatcherDiedError | undefined;
  #closed = false;
  #onClose: Array<() => void> = [];
  #onFirstWait: Array<() => void> = [];

  /**
   * Where this connection sees the database now, for `seenBy`: set by the cross-process watcher
   * (the WAL index header's stamp), undefined without one.
   */
  #stamp: (() => number | undefined) | undefined;

  /**
   * The database's committed state as this connection can see it, as a number to read before a
   * look and give `seenBy` (equal stamps: no commit in between); undefined when unknown, and
   * the look's own data_version serves instead.
   */
  stamp(): number | undefined {
    try {
      return this.#stamp?.();
    } catch {
      return undefined;
    }
  }

  /** Installs what `stamp()` reads (the watcher does, when it starts at the first wait). */
  useStamps(stamp: () => number | undefined): void {
    this.#stamp = stamp;
  }

  /** Counts changes seen; read it before looking, pass it as `since` when waiting. */
  get seq(): number {
    return this.#seq;
  }

  /** Counts changes including this process's quiet writes; `since` for a `quiet` wait. */
  get allSeq(): number {
    return this.#seq + this.#quietSeq;
  }

  #ownCommits = { commits: 0, writes: 0 };

  /**
   * Reports a background write that committed and changed rows (so SQLite counted a commit in
   * the WAL index header), given `allSeq` read just before it: the change probe can then tell
   * such commits from another connection's without a statement. A write that committed more than
   * once is reported once: an undercount only makes the probe ask SQLite.
   */
  ownCommitted(allSeqBefore: number): void {
    this.#ownCommits.commits++;
    this.#ownCommits.writes += this.allSeq - allSeqBefore;
  }

  /** What `ownCommitted` reported so far: the commits, and the API writes made in them. */
  get ownCommits(): { readonly commits: number; readonly writes: number } {
    return this.#ownCommits;
  }

  /** When this process last committed through this Database (`performance.now()`). */
  get lastLocalWriteAt(): number {
    return this.#localWriteAt;
  }

  /** The error the watcher died of, if it did; waits then only time out. */
  get dead(): WatcherDiedError | undefined {
    return this.#dead;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Resolves on the next change, the timeout, or abort. Rejects with WatcherDiedError when the
   * watcher dies during the wait; later waits resolve "timeout" within DEAD_WATCHER_POLL_MS.
   */
  wait(options: WakeWaitOptions = {}): Promise<WakeReason> {
    const { signal, since } = options;
    const quiet = options.quiet === true;
    if (this.#closed || signal?.aborted) return Promise.resolve("abort");
    if (this.#onFirstWait.length > 0) {
      for (const start of this.#onFirstWait.splice(0)) start();
    }
    if (since !== undefined && since !== (quiet ? this.allSeq : this.#seq)) {
      return Promise.resolve("change");
    }
    let timeoutMs = options.timeoutMs;
    if (this.#dead) timeoutMs = Math.min(timeoutMs ?? Infinity, DEAD_WATCHER_POLL_MS);
    return new Promise<WakeReason>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        this.#waiters.delete(waiter);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const localOnly = options.localOnly === true;
      const waiter: Waiter = {
        quiet,
        localOnly,
        watched: options.backoff !== true && !localOnly,
        settle: (reason) => (cleanup(), resolve(reason)),
        fail: (error) => (cleanup(), reject(error)),
      };
      const onAbort = () => waiter.settle("abort");
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => waiter.settle("timeout"), Math.max(0, timeoutMs));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      // Last: a watcher woken here may confirm a change at once, which settles this waiter.
      this.#waiters.add(waiter);
    });
  }

  /**
   * Wakes every waiter: a change may have been committed. `version` is where another
   * connection's commit was confirmed (a `stamp()`, or the connection's `data_version`), when
   * the source knows it (file-system events); without it (local commits, polls, own raw writes)
   * the change is one no read can be known to have seen.
   */
  changed(version?: number): void {
    this.#seq++;
    if (version === undefined) this.#unversionedSeq = this.#seq;
    else this.#version = version;
    this.#waiters.wake("change");
  }

  /**
   * Whether every change seen since `since` was another connection's commit that a look
   * already saw: that look needs no repeating. `version` is the `data_version` the look read,
   * `stamp` the `stamp()` read before it (the look saw at least that state). A change comes with
   * one or the other (stamps are negative, data_versions not); both only move with commits, so
   * an equal value means no such commit came after that look began. Only this process's own
   * commits move the stamp and not data_version, which is why a look keeps both.
   */
  seenBy(since: number, version: number | undefined, stamp?: number): boolean {
    if (this.#unversionedSeq > since || this.#version === undefined) return false;
    return this.#version === version || this.#version === stamp;
  }

  /**
   * Whether every change seen since `since` came with a version: another connection's commit
   * confirmed by the watcher, not a local commit, a poll or a backstop catch-up (which cannot
   * tell this process's own writes from anyone else's).
   */
  confirmedSince(since: number): boolean {
    return this.#unversionedSeq <= since;
  }

  /**
   * Wakes local waiters after a commit made through this Database. Deferred to a microtask so
   * that a call made inside a synchronous transaction wakes them only after it committed. A
   * `"quiet"` write wakes only the waiters that asked for them (change feeds): a claim or an ack
   * wakes no worker, so work() in one process does not wake itself for nothing.
   */
  notifyLocal(kind?: "quiet"): void {
    this.#localWriteAt = performance.now();
    if (kind === "quiet") {
      this.#quietSeq++;
      if (this.#waiters.anyQuiet()) queueMicrotask(() => this.#waiters.wake("quiet"));
      return;
    }
    if (this.#waiters.size === 0) this.#countLocal();
    else queueMicrotask(() => (this.#countLocal(), this.#waiters.wake("local")));
  }

  #countLocal(): void {
    this.#unversionedSeq = ++this.#seq;
  }

  /** The watcher can no longer see commits: fail current waiters, make later ones poll. */
  die(error: WatcherDiedError): void {
    if (this.#dead || this.#closed) return;
    this.#dead = error;
    this.#waiters.failAll(error);
  }

  /**
   * Registers `fn` to run once, at the first wait: the cross-process watcher and the maintenance
   * task start there, so a Database nobody waits on runs neither.
   */
  onFirstWait(fn: () => void): void {
    if (!this.#closed) this.#onFirstWait.push(fn);
  }

  /**
   * Registers `fn`, told `true` when a wait that wants other processes' commits starts while
   * none runs, and `false` when the last such wait ends: the watcher need not follow the file
   * while nobody waits (a worker busy with a backlog, a producer), and catches up when it wakes.
   */
  onWatched(fn: (watched: boolean) => void): void {
    if (!this.#closed) this.#waiters.onWatched(fn);
  }

  /** Registers cleanup to run on `close()` (change sources stop themselves here). */
  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#onClose.push(fn);
  }

  /** Stops everything; pending waits resolve "abort". Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.settleAll("abort");
    for (const fn of this.#onClose.splice(0)) {
      try {
        fn();
      } catch {
        // A source that fails to stop must not keep the others running.
      }
    }
  }
}
