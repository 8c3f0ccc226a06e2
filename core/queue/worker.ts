/**
 * A Worker: `work()` as an object the application can steer — pause and resume claiming, close
 * gracefully, read live counts, and listen to local events. `work()` is a Worker stopped by its
 * signal, awaited until closed.
 *
 * @module
 */

import type { Waker } from "../wait/waker.ts";
import { checkWorkOptions } from "./work_options.ts";
import { WorkRun } from "./work_run.ts";
import type {
  JobHandler,
  WorkObserver,
  WorkOptions,
  WorkResult,
  WorkSource,
} from "./work_types.ts";
import { requireOptions, requireTimerMs } from "../db/validate.ts";
import type { WorkerEventMap } from "./worker_events.ts";

/** Options for `worker.close()`. */
export interface WorkerCloseOptions {
  /** Milliseconds running handlers get to finish; defaults to the worker's `graceMs`. */
  graceMs?: number;
}

type Listener = EventListenerOrEventListenerObject;

/**
 * Runs a handler over a queue's jobs, like `work()`, as an object: `pause()`, `resume()`,
 * `close()`, live counts, and events (`completed`, `failed`, `lost`, `error`, `drained`,
 * `paused`, `resumed`, `closed`) as an EventTarget. A listener that throws is reported on the console; it
 * never stops the worker.
 *
 * @typeParam T The payload type.
 *
 * @example Steer a worker
 * ```ts ignore
 * const worker = emails.worker(async (job) => await send(job.payload), { concurrency: 4 });
 * worker.addEventListener("failed", (e) => console.warn(e.detail.job.id, e.detail.error));
 * worker.pause(); // in-flight handlers finish, nothing new is claimed
 * worker.resume();
 * console.log(await worker.close({ graceMs: 10_000 }));
 * ```
 */
export class Worker<T = unknown> extends EventTarget {
  /** The worker id its claims are made under. */
  readonly workerId: string;
  /**
   * Settles once the worker has stopped, with its totals; rejects with the worker's own error
   * (also sent as an `error` event) when it stopped because of one.
   */
  readonly closed: Promise<WorkResult>;
  #run: WorkRun<T>;
  #graceMs: number;
  #action: string;
  #wrapped = new WeakMap<Listener, EventListener>();

  /** @internal Use `queue.worker()`. */
  constructor(
    queue: WorkSource<T>,
    waker: Waker,
    handler: JobHandler<T>,
    options?: WorkOptions<T>,
  ) {
    super();
    const { s, signal } = checkWorkOptions(queue.name, handler, options);
    s.observer = this.#observer();
    this.workerId = s.workerId;
    this.#graceMs = s.graceMs;
    this.#action = s.action;
    this.#run = new WorkRun(queue, waker, s);
    // Started a microtask later: the first look claims synchronously, and its events (`drained`,
    // a synchronous handler's `completed`) must reach the listeners the caller adds right after
    // `worker()` returns.
    this.closed = Promise.resolve().then(() => this.#run.until(signal)).then((result) => {
      this.#emit("closed", { ...result });
      return result;
    });
    // Awaiting `closed` is optional: its error is also an `error` event.
    this.closed.catch(() => {});
  }

  /** Handlers running now. */
  get running(): number {
    return this.#run.running;
  }

  /** Jobs claimed ahead of the free slots (`prefetch`) and not started yet. */
  get held(): number {
    return this.#run.held;
  }

  /** Jobs handled and acked. */
  get processed(): number {
    return this.#run.result.acked;
  }

  /** Failed attempts committed: retried plus dead-lettered. */
  get failed(): number {
    return this.#run.result.retried + this.#run.result.dead;
  }

  /** Failed attempts put back for a retry. */
  get retried(): number {
    return this.#run.result.retried;
  }

  /** Failed attempts that sent the job to the dead letters. */
  get dead(): number {
    return this.#run.result.dead;
  }

  /** Jobs whose claim was lost before their outcome committed. */
  get lost(): number {
    return this.#run.result.lost;
  }

  /** Jobs given back unfinished by `close()` after the grace period ran out. */
  get released(): number {
    return this.#run.released;
  }

  /** Whether claiming is paused. */
  get paused(): boolean {
    return this.#run.paused;
  }

  /** Whether `close()` was called (or the signal aborted, or the worker failed). */
  get closing(): boolean {
    return this.#run.stopping;
  }

  /**
   * Stops claiming; handlers running now finish and their outcomes commit. Returns false when
   * already paused or closing.
   *
   * @example Pause during a deploy of a downstream service
   * ```ts ignore
   * worker.pause();
   * await deploy();
   * worker.resume();
   * ```
   */
  pause(): boolean {
    const changed = this.#run.pause();
    if (changed) this.#emit("paused", null);
    return changed;
  }

  /**
   * Claims again at once (jobs already waiting are picked up without waiting for a commit or
   * the idle poll). Returns false when not paused.
   *
   * @example
   * ```ts ignore
   * if (worker.paused) worker.resume();
   * ```
   */
  resume(): boolean {
    const changed = this.#run.resume();
    if (changed) this.#emit("resumed", null);
    return changed;
  }

  /**
   * Stops claiming, lets running handlers finish within `graceMs`, commits their outcomes, and
   * gives the jobs of handlers still running after that back at once (claimable by any worker;
   * their signals abort). Resolves with the totals, as `closed` does; calling it again returns
   * the same promise (the first grace period counts).
   *
   * @example Close on SIGTERM
   * ```ts ignore
   * process.on("SIGTERM", async () => {
   *   console.log(await worker.close({ graceMs: 25_000 }));
   *   db.close();
   * });
   * ```
   */
  close(options?: WorkerCloseOptions): Promise<WorkResult> {
    const action = `close the worker of ${this.#action.replace(/^work on /, "")}`;
    const opts = requireOptions(options, action, ["graceMs"]);
    const graceMs = requireTimerMs(opts.graceMs ?? this.#graceMs, "graceMs", action, true);
    this.#run.stop(graceMs);
    return this.closed;
  }

  /** Adds a listener for one of the worker's events; see WorkerEventMap. */
  override addEventListener<K extends keyof WorkerEventMap<T>>(
    type: K,
    listener: ((event: WorkerEventMap<T>[K]) => void) | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  /** Adds a listener for any event type (untyped `detail`). */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  override addEventListener(
    type: string,
    listener: Listener | ((event: never) => void) | null,
    options?: AddEventListenerOptions | boolean,
  ): void {
    if (listener === null) return;
    super.addEventListener(type, this.#guarded(listener as Listener), options);
  }

  /** Removes a listener added with `addEventListener()`. */
  override removeEventListener<K extends keyof WorkerEventMap<T>>(
    type: K,
    listener: ((event: WorkerEventMap<T>[K]) => void) | null,
    options?: EventListenerOptions | boolean,
  ): void;
  /** Removes a listener added for any event type. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | ((event: never) => void) | null,
    options?: EventListenerOptions | boolean,
  ): void {
    const wrapped = listener === null ? undefined : this.#wrapped.get(listener as Listener);
    if (wrapped !== undefined) super.removeEventListener(type, wrapped, options);
  }

  /** The listener, made unable to throw into the worker or the event loop. */
  #guarded(listener: Listener): EventListener {
    let wrapped = this.#wrapped.get(listener);
    if (wrapped === undefined) {
      wrapped = (event: Event) => {
        try {
          if (typeof listener === "function") listener.call(this, event);
          else listener.handleEvent(event);
        } catch (error) {
          console.error(`honker-ts: ${this.#action}: a "${event.type}" listener threw`, error);
        }
      };
      this.#wrapped.set(listener, wrapped);
    }
    return wrapped;
  }

  #emit<K extends keyof WorkerEventMap<T>>(
    type: K,
    detail: WorkerEventMap<T>[K]["detail"],
  ): void {
    try {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    } catch (error) {
      console.error(`honker-ts: ${this.#action}: dispatching "${type}" failed`, error);
    }
  }

  #observer(): WorkObserver<T> {
    return {
      completed: (job, value) => this.#emit("completed", { job, value }),
      failed: (job, error, dead) => this.#emit("failed", { job, error, dead }),
      lost: (job) => this.#emit("lost", { job }),
      error: (error) => this.#emit("error", { error }),
      drained: () => this.#emit("drained", null),
    };
  }
}
