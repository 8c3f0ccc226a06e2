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
import { LOCK_GET_LIVE } from "../core/lock/sql.ts";
import { AckWindow } from "./ack_window.ts";
import { readMessages } from "./event_rows.ts";
import { fileId } from "./file_id.ts";
import { RateMeter } from "./rate.ts";
import { retryUntilDone } from "./retry.ts";
import { sleep } from "../core/wait/sleep.ts";
import type { Sink, SinkMessage } from "./sink.ts";

/** Publishes in flight at once, by default. */
export const WINDOW_SIZE_DEFAULT = 128;
/**
 * Milliseconds between saves of the position while publishes are in flight: a crash publishes
 * again at most this long's worth of acknowledged events (with their ids), which the restart's
 * reconciliation finds in the sink and skips.
 */
const SAVE_EVERY_MS = 50;
/** Seconds the bridge's leader lock lasts between renewals, by default. */
export const BRIDGE_LOCK_TTL_DEFAULT_S = 10;

/** Options for an outbox bridge. */
export interface OutboxBridgeOptions {
  /** Names the bridge's lock and saved position; defaults to `<sink name>:<topic>`. */
  name?: string;
  /**
   * Publishes in flight at once (default 128). Above 1, the sink may store events out of offset
   * order (a retried publish lands after later ones): consumers that need order sort by the
   * offset header per source; `windowSize: 1` keeps the sink's order the file's, at about a
   * tenth of the rate.
   */
  windowSize?: number;
  /** Who holds the leader lock; defaults to a random id per bridge. */
  owner?: string;
  /** Seconds the leader lock lasts between renewals (default 10): a dead leader's takeover time. */
  lockTtlS?: number;
  /** How many of the sink's last messages to read on start (default 4 × windowSize, ≥ 1000). */
  reconcileScan?: number;
  /** Called with every failure before it is retried. */
  onError?: (error: unknown) => void;
}

const OPTION_KEYS: readonly (keyof OutboxBridgeOptions)[] = [
  "name",
  "windowSize",
  "owner",
  "lockTtlS",
  "reconcileScan",
  "onError",
];

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

/** Where to start after a restart, given the saved position and the offsets the sink holds. */
export function reconcile(saved: number, held: readonly number[]): {
  start: number;
  skip: Set<number>;
} {
  if (held.length === 0) return { start: saved, skip: new Set() };
  const start = Math.min(saved, Math.max(...held));
  return { start, skip: new Set(held.filter((offset) => offset > start)) };
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
  #sink: Sink;
  #windowSize: number;
  #owner: string;
  #lockTtlS: number;
  #scan: number;
  #onError: ((error: unknown) => void) | undefined;
  #window: AckWindow | undefined;
  #rate = new RateMeter();
  #retries = 0;
  #lastError: string | undefined;

  /** Checks the options; nothing is written until `run()`. */
  constructor(db: Database, topic: string, sink: Sink, options?: OutboxBridgeOptions) {
    const action = `start a bridge of stream ${JSON.stringify(topic)}`;
    this.topic = requireName(topic, "the topic", action);
    const opts = requireOptions(options, action, OPTION_KEYS);
    if (sink === null || typeof sink !== "object" || typeof sink.publish !== "function") {
      throw new TypeError(`Cannot ${action}: sink must be a Sink (publish, heldOffsets)`);
    }
    this.name = requireName(opts.name ?? `${sink.name}:${topic}`, "name", action);
    this.#windowSize = requireCount(opts.windowSize ?? WINDOW_SIZE_DEFAULT, "windowSize", action);
    this.#owner = requireName(opts.owner ?? crypto.randomUUID(), "owner", action);
    this.#lockTtlS = requireCount(opts.lockTtlS ?? BRIDGE_LOCK_TTL_DEFAULT_S, "lockTtlS", action);
    this.#scan = requireCount(
      opts.reconcileScan ?? Math.max(1000, 4 * this.#windowSize),
      "reconcileScan",
      action,
    );
    if (opts.onError !== undefined && typeof opts.onError !== "function") {
      throw new TypeError(`Cannot ${action}: onError must be a function`);
    }
    this.#onError = opts.onError;
    this.#db = db;
    this.#stream = db.stream(topic);
    this.#sink = sink;
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
      leader: this.#window !== undefined,
      position: this.#stream.getOffset(this.#consumer),
      lag: this.#stream.lag(this.#consumer),
      inFlight: this.#window?.inFlight ?? 0,
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
      await this.#term(term);
    } finally {
      held.removeEventListener("abort", endTerm);
    }
  }

  async #term(term: AbortController): Promise<void> {
    const signal = term.signal;
    const source = `${fileId(this.#db)}:${this.topic}`;
    const saved = this.#stream.getOffset(this.#consumer);
    const held = await retryUntilDone(
      () => this.#sink.heldOffsets(source, this.#scan),
      signal,
      (error) => this.#failed(error),
    );
    if (held === undefined) return;
    const { start, skip } = reconcile(saved, held);
    const window = new AckWindow(start);
    this.#window = window;
    const size = this.#windowSize;
    // Events read and not yet published: read in pages of about a window, so an
    // acknowledgement starts the next publish at once (as a raw publisher's lanes do) and the
    // window stays full, with one read per window's worth of acknowledgements.
    let queue: SinkMessage[] = [];
    let head = 0;
    let caughtUp = false;
    let publishing = 0;
    let drained: () => void = () => {};
    let wake: () => void = () => {};
    let readOffset = start;
    let savedAtMs = 0;
    let savedPosition = saved;
    let lost = false;
    const save = () => {
      if (!lost && window.position > savedPosition) {
        const outcome = this.#save(window.position);
        if (outcome === "saved") savedPosition = window.position;
        if (outcome === "lost") {
          lost = true;
          term.abort();
        }
      }
      savedAtMs = Date.now();
    };
    const launch = () => {
      while (publishing < size && head < queue.length && !signal.aborted) {
        const message = queue[head++];
        window.add(message.offset);
        if (skip.has(message.offset)) {
          window.ack(message.offset);
          continue;
        }
        publishing++;
        void this.#publish(message, window, signal).then(settled);
      }
    };
    const settled = () => {
      if (--publishing === 0) drained();
      launch();
      // Wake the loop to read the next page, or (all read) to save the position once idle.
      if (caughtUp ? publishing === 0 : queue.length - head < size) wake();
    };
    try {
      while (!signal.aborted) {
        if (queue.length - head < size) {
          queue = queue.slice(head);
          head = 0;
          const want = 2 * size - queue.length;
          const messages = readMessages(this.#db, source, this.topic, readOffset, want);
          caughtUp = messages.length < want;
          if (messages.length > 0) readOffset = messages[messages.length - 1].offset;
          for (const message of messages) queue.push(message);
        }
        launch();
        if (publishing === 0 || Date.now() - savedAtMs >= SAVE_EVERY_MS) save();
        if (!caughtUp && queue.length - head < size) continue;
        // While publishes are in flight the position moves: come back to save it.
        const waitMs = publishing > 0 || window.position > savedPosition ? SAVE_EVERY_MS : 1000;
        await this.#waitForWork(caughtUp, readOffset, waitMs, signal, (fn) => {
          wake = fn;
        });
      }
    } finally {
      const allSettled = new Promise<void>((resolve) => (drained = resolve));
      if (publishing > 0) await Promise.race([allSettled, sleep(2000)]);
      save();
      this.#window = undefined;
    }
  }

  /**
   * Sleeps until a publish settles, or `waitMs` pass, or (when `watch`) a new event is committed.
   */
  async #waitForWork(
    watch: boolean,
    readOffset: number,
    waitMs: number,
    signal: AbortSignal,
    onSettle: (wake: () => void) => void,
  ): Promise<void> {
    const stop = new AbortController();
    const abort = () => stop.abort();
    signal.addEventListener("abort", abort, { once: true });
    const settled = new Promise<void>((resolve) => onSettle(resolve));
    const woken = watch
      ? this.#stream.waitForEvents(readOffset, { limit: 1, timeoutMs: waitMs, signal: stop.signal })
      : sleep(waitMs, stop.signal);
    try {
      await Promise.race([settled, woken]);
    } finally {
      stop.abort();
      signal.removeEventListener("abort", abort);
    }
  }

  async #publish(message: SinkMessage, window: AckWindow, signal: AbortSignal): Promise<void> {
    try {
      await this.#sink.publish(message); // the common case, without the retry loop's closures
    } catch (error) {
      if (signal.aborted) return;
      this.#failed(error);
      const publish = async () => (await this.#sink.publish(message), true);
      const stored = await retryUntilDone(publish, signal, (e) => this.#failed(e));
      if (stored === undefined) return;
    }
    window.ack(message.offset);
    this.#rate.add();
  }

  /**
   * Saves the position, fenced: in one transaction with a check that this bridge's owner still
   * holds the lock (unexpired). "lost" when it does not, "busy" when a busy or closed file leaves
   * the save for the next one.
   */
  #save(position: number): "saved" | "lost" | "busy" {
    try {
      const held = this.#db.transaction((tx) => {
        const lock = tx.get<{ owner: string }>(LOCK_GET_LIVE, [this.#consumer]);
        if (lock?.owner !== this.#owner) return false;
        this.#stream.saveOffset(this.#consumer, position, { tx });
        return true;
      });
      if (held) return "saved";
      this.#failed(
        new Error(
          `Cannot save the position of bridge ${JSON.stringify(this.name)}: its lock is no ` +
            `longer held by ${JSON.stringify(this.#owner)} (it lapsed, and another bridge may ` +
            "lead now); this term ends and the bridge waits for the lock again",
        ),
      );
      return "lost";
    } catch (error) {
      if (!this.#db.closed) this.#failed(error);
      return "busy";
    }
  }
}
