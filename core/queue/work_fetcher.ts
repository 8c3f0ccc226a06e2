/**
 * The one writer of a `work()` run, River's producer and batch completer in one: it alone waits
 * for wake-ups and claims, for every idle slot in one statement, and it commits the acks and
 * retries of finished handlers — every one ready at that moment, together with the next claim, in
 * one transaction when that claim writes (`writeTurn()` in work_completion.ts). Slots never wait
 * on the waker, and this process's own claims and acks wake nobody (they are quiet writes).
 *
 * A finished handler's outcome waits for the next macrotask (`setImmediate`), so that every
 * handler finishing in the same turn of the event loop shares one commit: at concurrency 64 a
 * whole claimed batch is acked in one transaction. Until that commit a job is acked in memory
 * only: a process killed in between runs it again after its visibility timeout (at-least-once,
 * as after any crash before an ack).
 *
 * @module
 */

import type { ClaimLook } from "./claiming.ts";
import { claimSleepMs } from "./claim.ts";
import { DatabaseClosedError, isTransientSqliteError } from "../db/errors.ts";
import type { Job } from "./job.ts";
import type { JobRunOptions } from "./job_options.ts";
import { stillLive, writeTurn } from "./work_completion.ts";
import { Standby, STANDBY_POLL_MS } from "./work_standby.ts";
import type { Completion, CompletionStep, TurnSource, Written } from "./work_completion.ts";
import { busyBackoffMs, pause } from "../wait/wait_loop.ts";
import { WatcherDiedError } from "../db/errors.ts";
import type { Waker, WakeReason, WakeWaitOptions } from "../wait/waker.ts";

/** What the fetcher needs of a queue: its claim, its look, and a transaction to join them in. */
export type FetcherSource<T> = TurnSource<T>;

/** What the fetcher needs of its work() run. */
export interface FetcherHost<T> {
  /** Slots free for new jobs now; 0 once claiming has stopped. */
  idleSlots(): number;
  /** Whether the run is over: claiming stopped and no handler is running. */
  finished(): boolean;
  /** Hands a claimed job to a free slot, with the run options its claim returned (if any). */
  start(job: Job<T>, runOptions?: ReadonlyMap<number, JobRunOptions | undefined>): void;
  /** Nothing more was due after a claim (it came back short, or took the last due jobs). */
  lookedShort?(): void;
}

/** The reason a kick aborts a wait with (an abort without one builds a DOMException). */
const KICKED = "kicked";

/**
 * After this many wakes in a row whose claim took a job, the next wake claims before it looks
 * (`claimInBackground`'s `direct`): the handler starts one statement sooner. A worker alone on
 * its queue finds a job at every wake; several processes sharing a queue mostly do not (one of
 * them wins each job), and their wakes keep looking first, so that a wake for nothing takes no
 * write lock. A direct claim that finds nothing starts the count again.
 */
export const DIRECT_CLAIM_AFTER_WAKES = 8;

/** One work() run's claimer and completer. */
export class Fetcher<T> {
  #source: FetcherSource<T>;
  #waker: Waker;
  #workerId: string;
  #idleMs: number;
  #host: FetcherHost<T>;
  #pending: Completion<T>[] = [];
  /** Ends the current wait: a completion arrived, a slot was freed, or claiming stopped. */
  #wakeUp: (() => void) | undefined;
  #kickQueued = false;
  /** False after a look found nothing more due, until a commit or a deadline. */
  #mayClaim = true;
  /** The last look saw more due than its claim took: the next claim will find rows. */
  #moreDue = false;
  #nextAt: number | undefined;
  #since = 0;
  /** The data_version the last look read at: a wake for a commit it saw needs no new look. */
  #lookedAt: number | undefined;
  /** The waker's stamp read before that look (`Waker.seenBy`). */
  #lookedStamp: number | undefined;
  /** The last write started handlers whose outcomes have not arrived yet. */
  #started = false;
  /**
   * Set by a wake for commits the watcher confirmed as another connection's (not a backstop
   * catch-up, which also wakes for this process's own writes); the next claim reports to
   * `#wakeClaims`.
   */
  #woken = false;
  /** Wakes in a row whose claim took a job (`DIRECT_CLAIM_AFTER_WAKES`). */
  #wakeClaims = 0;
  /** Set when the database closed or work() failed: nothing more is written. */
  #halted = false;
  /** Whether this run keeps losing jobs to other processes, and polls rather than waits. */
  #standby = new Standby();

  constructor(
    source: FetcherSource<T>,
    waker: Waker,
    host: FetcherHost<T>,
    settings: { workerId: string; idleMs: number },
  ) {
    this.#source = source;
    this.#waker = waker;
    this.#host = host;
    this.#workerId = settings.workerId;
    this.#idleMs = settings.idleMs;
  }

  /**
   * Queues a finished handler's outcome for the next commit. Resolves true once it committed,
   * false when the claim was lost (expired and taken, cancelled, or the database closed).
   */
  complete(job: Job<T>, step: CompletionStep): Promise<boolean> {
    if (this.#halted) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const giveUpAt = (job.claimExpiresAt + 1) * 1000;
      this.#pending.push({ job, step, giveUpAt, resolve, reject });
      this.kick();
    });
  }

  /**
   * Something changed for the loop (a slot was freed, claiming stopped): it looks again in the
   * next macrotask, with everything else that happened in this one.
   */
  kick(): void {
    if (this.#kickQueued) return;
    this.#kickQueued = true;
    setImmediate(() => {
      this.#kickQueued = false;
      this.#wakeUp?.();
    });
  }

  /** Claims at the next turn even if the last look found nothing due (a resumed worker). */
  lookAgain(): void {
    this.#mayClaim = true;
    this.kick();
  }

  /** Writes nothing more: outcomes not yet committed are reported lost (their claims lapse). */
  halt(): void {
    this.#halted = true;
    for (const c of this.#pending.splice(0)) c.resolve(false);
    this.#wakeUp?.();
  }

  /** Runs until the run is finished and every outcome is committed; rejects on a fatal error. */
  async run(): Promise<void> {
    let busy = 0;
    while (!this.#halted) {
      const idle = this.#host.idleSlots();
      const claimFor = idle > 0 && this.#mayClaim ? idle : 0;
      // Slots freed by handlers started in the last write, which finished synchronously: their
      // kick is queued and their outcomes are on their way; wait for them, so that the next
      // write carries those outcomes with the claim, instead of claiming once per job.
      const outcomesDue = this.#started && claimFor > 0 && this.#pending.length === 0;
      this.#started = false;
      if (outcomesDue || (this.#pending.length === 0 && claimFor === 0)) {
        if (!outcomesDue && this.#host.finished()) return;
        await this.#wait(!outcomesDue && idle > 0);
        continue;
      }
      const turn = this.#writeTurn(claimFor);
      if (turn === "closed") return;
      if (turn === "written") busy = 0;
      else await pause(this.#waker, { timeoutMs: busyBackoffMs(++busy), backoff: true });
    }
  }

  /**
   * One write: the outcomes ready now and, for `claimFor` idle slots, the next claim. "busy":
   * the database was, and the outcomes wait for the next try; "closed": it closed under us.
   */
  #writeTurn(claimFor: number): "written" | "busy" | "closed" {
    const batch = this.#pending.splice(0);
    // The look's baseline: a commit after it wakes the next wait. Only a write that claims
    // looks; one that only commits outcomes must not hide a commit it did not look at.
    if (claimFor > 0) this.#since = this.#waker.seq;
    const stamp = claimFor > 0 ? this.#waker.stamp() : undefined;
    const woken = this.#woken && claimFor > 0;
    if (claimFor > 0) this.#woken = false;
    const direct = woken && batch.length === 0 && this.#wakeClaims >= DIRECT_CLAIM_AFTER_WAKES;
    const writesBefore = this.#waker.allSeq;
    let written: Written<T>;
    try {
      const claim = { workerId: this.#workerId, n: claimFor, direct, moreDue: this.#moreDue };
      written = writeTurn(this.#source, batch, claim);
    } catch (error) {
      if (error instanceof DatabaseClosedError || this.#waker.closed) {
        for (const c of batch) c.resolve(false);
        this.halt();
        return "closed";
      }
      if (!isTransientSqliteError(error)) {
        for (const c of batch) c.reject(error);
        throw error;
      }
      this.#pending.unshift(...stillLive(batch, Date.now()));
      return "busy";
    }
    // Outcomes settled or jobs claimed: rows changed, in at least one commit of ours.
    if (written.settled.includes(true) || (written.look?.jobs.length ?? 0) > 0) {
      this.#waker.ownCommitted(writesBefore);
    }
    batch.forEach((c, i) => c.resolve(written.settled[i]));
    if (written.look && woken) {
      this.#wakeClaims = written.look.jobs.length > 0 ? this.#wakeClaims + 1 : 0;
      // Standby needs the WAL index header to poll (a file in WAL mode, watched by events).
      if (stamp !== undefined) this.#standby.claimed(written.look.jobs.length, performance.now());
    }
    if (written.look) this.#claimed(written.look, claimFor, stamp);
    return "written";
  }

  /** `stamp`: the waker's stamp read before the write (`Waker.seenBy`), when it has one. */
  #claimed(look: ClaimLook<T>, asked: number, stamp: number | undefined): void {
    // Nothing more due after this claim (a short one, or the look saw no row past it): wait for
    // a commit or the deadline.
    this.#mayClaim = look.more ?? look.jobs.length >= asked;
    this.#moreDue = look.more === true;
    this.#nextAt = look.nextAt;
    this.#lookedAt = look.version;
    this.#lookedStamp = stamp;
    this.#started = look.jobs.length > 0;
    for (const job of look.jobs) this.#host.start(job, look.runOptions);
    if (look.direct && !this.#mayClaim) {
      // A short claim that did not look: what comes next is unknown (a job due in a minute, an
      // exhausted row to bury). Look now, with these handlers started, rather than after them.
      this.#mayClaim = true;
      this.#started = false;
      return;
    }
    if (!this.#mayClaim) this.#host.lookedShort?.();
  }

  /**
   * Sleeps until a kick, and while slots are idle with nothing due, also until a commit from
   * any process (since the last look), the next deadline, or the idle poll. On standby the
   * commit is looked for once a millisecond instead (`work_standby.ts`).
   */
  async #wait(slotsIdle: boolean): Promise<void> {
    try {
      if (!slotsIdle) {
        await new Promise<void>((resolve) => (this.#wakeUp = resolve));
        return;
      }
      const wakeUp = new AbortController();
      this.#wakeUp = () => wakeUp.abort(KICKED);
      const deadlineMs = claimSleepMs(this.#nextAt, this.#idleMs);
      const poll = this.#standby.on && deadlineMs > STANDBY_POLL_MS;
      const reason = await wakeReason(this.#waker, {
        timeoutMs: poll ? STANDBY_POLL_MS : deadlineMs,
        signal: wakeUp.signal,
        since: this.#since,
        // Other connections' commits neither end a poll nor keep the file watch awake: the poll
        // reads the WAL index header instead, once for all of them.
        localOnly: poll,
      });
      if (reason === "abort") {
        if (this.#waker.closed) this.halt();
      } else if (poll && reason === "timeout") {
        this.#polled();
      } else if (
        reason === "change" && this.#waker.seenBy(this.#since, this.#lookedAt, this.#lookedStamp)
      ) {
        // Another process's commit that the last look already saw (its claim or ack, say):
        // nothing new to look at. A later commit moves seq past this baseline.
        this.#since = this.#waker.seq;
      } else {
        this.#mayClaim = true;
        this.#woken = reason === "change" && this.#waker.confirmedSince(this.#since);
      }
    } finally {
      this.#wakeUp = undefined;
    }
  }

  /**
   * A poll on standby: looks when the WAL index header moved since the last look (any commit,
   * ours included), or when it cannot tell, which also ends the standby.
   */
  #polled(): void {
    const stamp = this.#waker.stamp();
    const known = stamp !== undefined && this.#lookedStamp !== undefined;
    const committed = !known || stamp !== this.#lookedStamp;
    if (known) this.#standby.polled(committed);
    else this.#standby.leave();
    if (!committed) return;
    this.#mayClaim = true;
    this.#woken = true;
  }
}

/**
 * `waker.wait()`; the watcher dying during the wait counts as a timeout: the claimer looks, as
 * it does after every poll (later waits poll).
 */
async function wakeReason(waker: Waker, options: WakeWaitOptions): Promise<WakeReason> {
  try {
    return await waker.wait(options);
  } catch (error) {
    if (error instanceof WatcherDiedError) return waker.closed ? "abort" : "timeout";
    throw error;
  }
}
