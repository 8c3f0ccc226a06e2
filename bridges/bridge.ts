/**
 * The outbox bridge: publishes a stream's events to a `Sink` exactly once as the sink sees it.
 *
 * - Each event goes out as `<file id>:<topic>:<offset>`, and every failure is retried with that
 *   same id, so a sink that deduplicates by id stores it once.
 * - At most `windowSize` publishes are in flight; the position saved in the file (the stream's
 *   consumer offset of the bridge, which also keeps `trim()` from deleting unsent events) is the
 *   end of the acknowledged prefix, saved only after the acknowledgements.
 * - On start the position is reconciled with the offsets the sink actually holds at its tail:
 *   events it stored after the last save are skipped (the outage may have outlasted the sink's
 *   duplicate window), and events it lost are published again.
 * - One bridge per name runs at a time: it holds a honker lock, so many processes on one host
 *   can all call `run()` and one of them publishes.
 *
 * @module
 */

import type { Database, Stream } from "../mod.ts";
import { DatabaseClosedError } from "../mod.ts";
import { requireCount, requireName, requireOptions } from "../core/db/validate.ts";
import {
  BRIDGE_LOCK_TTL_DEFAULT_S,
  OUTBOX_BRIDGE_OPTION_KEYS,
  WINDOW_SIZE_DEFAULT,
} from "./bridge_options.ts";
import type { OutboxBridgeOptions } from "./bridge_options.ts";
import { BridgePublisher } from "./bridge_publisher.ts";
import { RateMeter } from "./rate.ts";
import { sleep } from "../core/wait/sleep.ts";
import type { Sink } from "./sink.ts";

/** What `stats()` reports. */
export interface BridgeStats {
  /** Whether this bridge holds the leader lock and publishes. */
  leader: boolean;
  /** The offset saved in the file: every event up to it is in the sink. */
  position: number;
  /** Events of the topic after the saved position. */
  lag: number;
  /** Publishes in flight now (0 when not the leader). */
  inFlight: number;
  /** Events this bridge has published since it was made. */
  published: number;
  /** Events published per second over the last five seconds. */
  publishedPerS: number;
  /** Failed publishes and reads retried since the bridge was made. */
  retries: number;
  /** The last failure's message, if any. */
  lastError: string | undefined;
}

/**
 * Publishes the events of one topic to a sink, exactly once as the sink sees it, from whichever
 * process holds the bridge's lock. Made by `natsBridge()` for JetStream.
 *
 * @example Run a bridge until shutdown
 * ```ts ignore
 * const bridge = new OutboxBridge(db, "orders", sink);
 * const stop = new AbortController();
 * const running = bridge.run({ signal: stop.signal });
 * // … on shutdown:
 * stop.abort();
 * await running;
 * ```
 */
export class OutboxBridge {
  /** The bridge's name: its lock is `honker-ts-bridge:<name>`, its position a consumer offset. */
  readonly name: string;
  /** The topic it publishes. */
  readonly topic: string;
  #db: Database;
  #stream: Stream;
  #owner: string;
  #lockTtlS: number;
  #onError: ((error: unknown) => void) | undefined;
  #publisher: BridgePublisher;
  #rate = new RateMeter();
  #retries = 0;
  #lastError: string | undefined;

  /** Checks the options; nothing is written until `run()`. */
  constructor(db: Database, topic: string, sink: Sink, options?: OutboxBridgeOptions) {
    const action = `start a bridge of stream ${JSON.stringify(topic)}`;
    this.topic = requireName(topic, "the topic", action);
    const opts = requireOptions(options, action, OUTBOX_BRIDGE_OPTION_KEYS);
    if (sink === null || typeof sink !== "object" || typeof sink.publish !== "function") {
      throw new TypeError(`Cannot ${action}: sink must be a Sink (publish, heldOffsets)`);
    }
    this.name = requireName(opts.name ?? `${sink.name}:${topic}`, "name", action);
    const windowSize = requireCount(opts.windowSize ?? WINDOW_SIZE_DEFAULT, "windowSize", action);
    this.#owner = requireName(opts.owner ?? crypto.randomUUID(), "owner", action);
    this.#lockTtlS = requireCount(opts.lockTtlS ?? BRIDGE_LOCK_TTL_DEFAULT_S, "lockTtlS", action);
    const scan = requireCount(
      opts.reconcileScan ?? Math.max(1000, 4 * windowSize),
      "reconcileScan",
      action,
    );
    if (opts.onError !== undefined && typeof opts.onError !== "function") {
      throw new TypeError(`Cannot ${action}: onError must be a function`);
    }
    this.#onError = opts.onError;
    this.#db = db;
    this.#stream = db.stream(topic);
    this.#publisher = new BridgePublisher({
      name: this.name,
      topic: this.topic,
      db,
      stream: this.#stream,
      sink,
      consumer: this.#consumer,
      owner: this.#owner,
      windowSize,
      scan,
      rate: this.#rate,
      failed: (error) => this.#failed(error),
    });
  }

  get #consumer(): string {
    return `honker-ts-bridge:${this.name}`;
  }

  /**
   * Waits for the bridge's lock and publishes while holding it, until `signal` aborts or the
   * database closes; a lost lock is waited for again. Resolves once stopped, after the
   * publishes in flight have settled (for at most two seconds) and the position is saved.
   *
   * @example Many processes, one publisher
   * ```ts ignore
   * void bridge.run({ signal: shutdown.signal }); // in every process; one leads
   * ```
   */
  async run(options?: { signal?: AbortSignal }): Promise<void> {
    const opts = requireOptions(options, `run bridge ${JSON.stringify(this.name)}`, ["signal"]);
    const signal = opts.signal ?? new AbortController().signal;
    while (!signal.aborted && !this.#db.closed) {
      try {
        await this.#db.withLock(this.#consumer, (_lock, held) => this.#lead(held.signal), {
          owner: this.#owner,
          ttlS: this.#lockTtlS,
          signal,
        });
      } catch (error) {
        if (signal.aborted || error instanceof DatabaseClosedError || this.#db.closed) break;
        this.#failed(error);
        await sleep(1000, signal);
      }
    }
  }

  /**
   * The bridge's position, lag and throughput.
   *
   * @example Watch the lag
   * ```ts ignore
   * const { lag, publishedPerS } = bridge.stats();
   * ```
   */
  stats(): BridgeStats {
    return {
      leader: this.#publisher.window !== undefined,
      position: this.#stream.getOffset(this.#consumer),
      lag: this.#stream.lag(this.#consumer),
      inFlight: this.#publisher.window?.inFlight ?? 0,
      published: this.#rate.count,
      publishedPerS: this.#rate.perS(),
      retries: this.#retries,
      lastError: this.#lastError,
    };
  }

  #failed(error: unknown): void {
    this.#retries++;
    this.#lastError = error instanceof Error ? error.message : String(error);
    this.#onError?.(error);
  }

  /**
   * One term as leader: reconcile, then publish until `held` aborts (the lock was lost or `run()`
   * was stopped) or a save finds that another owner holds the lock (this one's lapsed while it
   * was stalled): the saves are fenced, so a stale leader never moves the position.
   */
  async #lead(held: AbortSignal): Promise<void> {
    const term = new AbortController();
    const endTerm = () => term.abort();
    held.addEventListener("abort", endTerm, { once: true });
    try {
      await this.#publisher.term(term);
    } finally {
      held.removeEventListener("abort", endTerm);
    }
  }
}
